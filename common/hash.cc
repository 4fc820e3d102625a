#include "common/hash.h"

#include <cmath>

#include <xxhash.h>

namespace tessera {

uint64_t FeatureId(uint32_t field, std::string_view value) {
  return XXH64(value.data(), value.size(), field);
}

double UniformFromKey(uint64_t seed, uint64_t stream, uint64_t key, uint64_t index) {
  uint64_t h = Mix64(seed ^ Mix64(stream * 0x9e3779b97f4a7c15ULL ^ Mix64(key + Mix64(index))));
  // 53 random bits -> [0, 1).
  return static_cast<double>(h >> 11) * (1.0 / 9007199254740992.0);
}

double NormalFromKey(uint64_t seed, uint64_t stream, uint64_t key, uint64_t index) {
  double u1 = UniformFromKey(seed, stream, key, 2 * index);
  double u2 = UniformFromKey(seed, stream, key, 2 * index + 1);
  if (u1 < 1e-300) u1 = 1e-300;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace tessera
