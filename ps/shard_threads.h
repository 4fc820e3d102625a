// ShardThreads: the server's slot-owning threads (DESIGN.md §5). A call hands a task
// over shards of the table (disjoint sets of slots) to every thread at once: each
// thread, the caller included, claims the next unclaimed shard and runs the task on
// it until none is left, and the call returns when every shard is done. Within a
// call a shard belongs to the one thread that claimed it, so the hot path takes no
// locks; a claim is one compare-and-swap.
//
// Why claims and not a fixed thread per shard: on cores shared with other processes
// (the workers of the same job, or anything else) a thread that is not scheduled
// would hold up the whole call with a fixed assignment; with claims the threads that
// run take its shards (bench/RESULTS.md, issue 5, measured under load).
//
// The threads sleep on a futex (C++20 atomic wait) between calls, so an idle server
// does not spin on the cores the workers need.
//
// Thread-safety: RunShards is called from one thread at a time, never from a task.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <type_traits>
#include <vector>

namespace tessera::ps {

class ShardThreads {
 public:
  // Starts threads - 1 threads (threads >= 1; with 1, tasks run on the caller alone).
  explicit ShardThreads(int threads);
  // Stops and joins the threads.
  ~ShardThreads();

  ShardThreads(const ShardThreads&) = delete;
  ShardThreads& operator=(const ShardThreads&) = delete;

  int threads() const { return static_cast<int>(threads_.size()) + 1; }

  // Runs task(shard) exactly once for every shard in [0, shards) (1 <= shards <=
  // 65535), spread over the threads, and returns once every one has returned. The
  // task must not throw.
  template <typename Task>
  void RunShards(int shards, const Task& task) {
    static_assert(std::is_invocable_v<const Task&, int>);
    Dispatch(
        shards, [](const void* t, int shard) { (*static_cast<const Task*>(t))(shard); }, &task);
  }

 private:
  using Invoke = void (*)(const void* task, int shard);

  void Dispatch(int shards, Invoke invoke, const void* task);
  // Claims and runs shards of call `call` until none is left.
  void RunClaims(uint32_t call);
  void Loop();

  // Written by the caller before it publishes a call in claims_, read by a thread
  // after it claimed a shard of that call (which cannot end before the shard is done).
  Invoke invoke_ = nullptr;
  const void* task_ = nullptr;
  // The current call: its number (high 32 bits), its shard count (bits 16-31) and the
  // next shard to claim (bits 0-15).
  std::atomic<uint64_t> claims_{0};
  std::atomic<int> done_{0};       // shards of the current call finished
  std::atomic<uint32_t> wake_{0};  // the last call's number: threads wait on it
  std::atomic<bool> stop_{false};
  uint32_t calls_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace tessera::ps
