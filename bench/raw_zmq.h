// The raw ZeroMQ ceiling for kv_bench (issue 5): the same bytes as its requests, moved
// by bare ZeroMQ between two processes on tcp loopback, with none of our framing or
// tables. A PAIR sender streams constant messages of one size (zero-copy: no free
// function, so ZeroMQ neither copies nor frees them) to a PAIR receiver; the receiver
// answers an empty message with the byte count it received, echoes messages starting
// with 'E' (the 64-byte round trip) and exits on "Q". Each runs on its process's main
// thread.
#pragma once

#include <string>

#include "common/status.h"

namespace tessera::bench {

// Binds on an ephemeral loopback port, writes its endpoint and '\n' to endpoint_fd,
// receives until "Q" (or until no message comes for two minutes: DeadlineExceeded).
Status RunRawReceiver(int endpoint_fd);

// Streams 4 KiB, 64 KiB, 256 KiB, 1 MiB and 8 MiB messages for about `seconds` each
// (plus the time to drain what ZeroMQ queued), then times 64-byte round trips; prints
// a RESULT line per figure (bench/kv_measure.h).
Status RunRawSender(const std::string& endpoint, double seconds);

}  // namespace tessera::bench
