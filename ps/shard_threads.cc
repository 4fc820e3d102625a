#include "ps/shard_threads.h"

#include <glog/logging.h>
#include <pthread.h>

#include <string>

namespace tessera::ps {
namespace {

constexpr uint64_t kShardMask = 0xffff;

}  // namespace

ShardThreads::ShardThreads(int threads) {
  CHECK_GE(threads, 1);
  threads_.reserve(threads - 1);
  for (int t = 1; t < threads; ++t) {
    threads_.emplace_back([this] { Loop(); });
    // Named so that top -H and perf say whose time it is (15 characters at most).
    std::string name = "ps-shards-" + std::to_string(t);
    pthread_setname_np(threads_.back().native_handle(), name.substr(0, 15).c_str());
  }
}

ShardThreads::~ShardThreads() {
  if (threads_.empty()) return;
  stop_.store(true, std::memory_order_release);
  wake_.fetch_add(1, std::memory_order_release);
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void ShardThreads::Dispatch(int shards, Invoke invoke, const void* task) {
  CHECK(shards >= 1 && static_cast<uint64_t>(shards) <= kShardMask) << shards;
  if (threads_.empty()) {
    for (int s = 0; s < shards; ++s) invoke(task, s);
    return;
  }
  invoke_ = invoke;
  task_ = task;
  done_.store(0, std::memory_order_relaxed);
  const uint32_t call = ++calls_;
  claims_.store(uint64_t{call} << 32 | uint64_t(shards) << 16, std::memory_order_release);
  wake_.store(call, std::memory_order_release);
  wake_.notify_all();
  RunClaims(call);
  for (int d = done_.load(std::memory_order_acquire); d != shards;
       d = done_.load(std::memory_order_acquire)) {
    done_.wait(d, std::memory_order_acquire);
  }
}

void ShardThreads::RunClaims(uint32_t call) {
  uint64_t c = claims_.load(std::memory_order_acquire);
  while (true) {
    const uint64_t next = c & kShardMask;
    const uint64_t shards = (c >> 16) & kShardMask;
    // Another call (a thread that woke late) or none left: nothing to take.
    if ((c >> 32) != call || next >= shards) return;
    if (!claims_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
      continue;  // c now holds the current value
    }
    invoke_(task_, static_cast<int>(next));
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == static_cast<int>(shards)) {
      done_.notify_one();
    }
    c = claims_.load(std::memory_order_acquire);
  }
}

void ShardThreads::Loop() {
  uint32_t seen = 0;
  while (true) {
    wake_.wait(seen, std::memory_order_acquire);
    seen = wake_.load(std::memory_order_acquire);
    if (stop_.load(std::memory_order_acquire)) return;
    RunClaims(seen);
  }
}

}  // namespace tessera::ps
