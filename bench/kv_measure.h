// What kv_bench's cases share: the random keys they request, the clock, and the RESULT
// lines they print ("RESULT case=<name> key=value ...", read by bench/report.py).
// MB = 10^6 bytes of values. Pure functions and stdout writes; call from one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tessera::bench {

// `sets` requests of `keys_per_set` random keys each, all distinct (splitmix64 of a
// counter is a bijection), the same for the same seed.
std::vector<std::vector<uint64_t>> RandomKeySets(int sets, int keys_per_set, uint64_t seed);

// Microseconds on the monotonic clock.
double NowUs();

// "RESULT case=<name> mbps=... keys_per_s=... ops=... seconds=...".
void PrintThroughput(const std::string& name, double ops, double value_bytes_per_op,
                     double keys_per_op, double seconds);

// "RESULT case=<name> p50_us=... p99_us=... samples=..." from round trips in
// microseconds (sorted here). `us` must not be empty.
void PrintLatency(const std::string& name, std::vector<double> us);

}  // namespace tessera::bench
