#include "bench/raw_zmq.h"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>
#include <zmq.hpp>

#include "bench/kv_measure.h"
#include "common/clock.h"

namespace tessera::bench {
namespace {

constexpr int kReceiverIdleLimitMs = 120000;
constexpr int kReplyTimeoutMs = 10000;

}  // namespace

Status RunRawReceiver(int endpoint_fd) {
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::pair);
  try {
    socket.set(zmq::sockopt::rcvtimeo, kReceiverIdleLimitMs);
    socket.bind("tcp://127.0.0.1:*");
    std::string line = socket.get(zmq::sockopt::last_endpoint) + "\n";
    if (write(endpoint_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      return Status::IOError("cannot report the endpoint");
    }
    uint64_t bytes = 0;
    while (true) {
      zmq::message_t m;
      if (!socket.recv(m)) return Status::DeadlineExceeded("raw receiver: sender gone");
      if (m.size() == 0) {
        socket.send(zmq::buffer(&bytes, sizeof(bytes)));
        bytes = 0;
      } else if (m.size() == 1 && *m.data<char>() == 'Q') {
        return Status::OK();
      } else if (*m.data<char>() == 'E') {
        socket.send(m, zmq::send_flags::none);
      } else {
        bytes += m.size();
      }
    }
  } catch (const zmq::error_t& e) {
    return Status::IOError(std::string("raw receiver: ") + e.what());
  }
}

Status RunRawSender(const std::string& endpoint, double seconds) {
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::pair);
  try {
    socket.set(zmq::sockopt::rcvtimeo, kReplyTimeoutMs);
    socket.connect(endpoint);
    const size_t kMaxBytes = size_t{8} << 20;
    std::vector<char> data(kMaxBytes, 'D');
    for (size_t size :
         {size_t{4096}, size_t{65536}, size_t{4096} * 16 * 4, size_t{1} << 20, kMaxBytes}) {
      uint64_t sent = 0;
      const double start = NowSeconds();
      while (NowSeconds() - start < seconds) {
        for (int i = 0; i < 16; ++i) {
          // A constant message (no free function): ZeroMQ sends the buffer, no copy.
          zmq::message_t m(data.data(), size, nullptr, nullptr);
          socket.send(m, zmq::send_flags::none);
          sent += size;
        }
      }
      socket.send(zmq::message_t(), zmq::send_flags::none);
      zmq::message_t count;
      if (!socket.recv(count)) return Status::DeadlineExceeded("raw receiver did not answer");
      uint64_t received = 0;
      std::memcpy(&received, count.data(), sizeof(received));
      const double elapsed = NowSeconds() - start;
      if (received != sent) return Status::Internal("raw: sent != received");
      std::printf("RESULT case=raw_%zu mbps=%.1f msgs_per_s=%.0f seconds=%.3f\n", size,
                  received / elapsed / 1e6, received / double(size) / elapsed, elapsed);
      std::fflush(stdout);
    }
    // Round trip of a 64-byte message (1 key x 16 floats).
    std::vector<double> us;
    const double end = NowSeconds() + seconds;
    char echo[64] = {'E'};
    while (NowSeconds() < end || us.size() < 1000) {
      double t0 = NowUs();
      socket.send(zmq::buffer(echo, sizeof(echo)));
      zmq::message_t back;
      if (!socket.recv(back)) return Status::DeadlineExceeded("raw receiver did not echo");
      us.push_back(NowUs() - t0);
    }
    PrintLatency("raw_lat_64", std::move(us));
    socket.send(zmq::str_buffer("Q"));
  } catch (const zmq::error_t& e) {
    return Status::IOError(std::string("raw sender: ") + e.what());
  }
  return Status::OK();
}

}  // namespace tessera::bench
