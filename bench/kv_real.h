// kv_bench's "real" cases: the production push/pull path end to end, ps::PsClient
// against a forked ps::Server (BSP, one worker, one server), in the worker's pattern:
// per step, Pull(step s) then Push(step s) (pushes are not acknowledged under BSP; the
// next step's pull waits until the push is applied, so each step is one round trip).
// No MPI: the node table is built by hand. Call from main()'s thread, before any
// ZeroMQ context exists in this process (it forks).
#pragma once

#include <string>

#include "common/status.h"

namespace tessera::bench {

// Runs every real case whose name contains `filter`, about `seconds` each, printing a
// RESULT line per case (the format of kv_bench.cc); the server runs `server_threads`
// slot-owning threads (ServerOptions::threads).
Status RunRealCases(double seconds, const std::string& filter, int server_threads);

}  // namespace tessera::bench
