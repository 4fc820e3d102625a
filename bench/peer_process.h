// The other process of a two-process benchmark (kv_bench): ForkPeer forks a child that
// serves on an ephemeral port and reports its endpoint back on a pipe; ReapPeer waits
// for it with a deadline. Fork before this process creates any ZeroMQ context or
// thread. Not thread-safe; call from main()'s thread.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "common/status.h"

namespace tessera::bench {

// Forks a child that runs serve(fd), which must write its endpoint and '\n' to fd
// before serving; the child exits 0 when serve returns OK, 1 otherwise (printing why).
// Returns the endpoint; *child gets the child's pid.
StatusOr<std::string> ForkPeer(const std::function<Status(int fd)>& serve, pid_t* child);

// Waits up to 10 s for the child to exit; Aborted when it failed, DeadlineExceeded
// (after killing it) when it did not exit.
Status ReapPeer(pid_t child);

// Kills the child at once (after an error on our side) and reaps it.
void KillPeer(pid_t child);

}  // namespace tessera::bench
