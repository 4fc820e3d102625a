#include "bench/kv_measure.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace tessera::bench {

std::vector<std::vector<uint64_t>> RandomKeySets(int sets, int keys_per_set, uint64_t seed) {
  std::vector<std::vector<uint64_t>> key_sets(sets);
  for (auto& set : key_sets) {
    set.resize(keys_per_set);
    for (uint64_t& k : set) {
      uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);  // splitmix64
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      k = z ^ (z >> 31);
    }
  }
  return key_sets;
}

double NowUs() {
  return std::chrono::duration<double, std::micro>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void PrintThroughput(const std::string& name, double ops, double value_bytes_per_op,
                     double keys_per_op, double seconds) {
  std::printf("RESULT case=%s mbps=%.1f keys_per_s=%.0f ops=%.0f seconds=%.3f\n", name.c_str(),
              ops * value_bytes_per_op / seconds / 1e6, ops * keys_per_op / seconds, ops, seconds);
  std::fflush(stdout);
}

void PrintLatency(const std::string& name, std::vector<double> us) {
  std::sort(us.begin(), us.end());
  std::printf("RESULT case=%s p50_us=%.1f p99_us=%.1f samples=%zu\n", name.c_str(),
              us[us.size() / 2], us[us.size() * 99 / 100], us.size());
  std::fflush(stdout);
}

}  // namespace tessera::bench
