// Feature ids, slots and deterministic per-key randomness (DESIGN.md §4).
// A sparse feature id is xxHash64(raw value bytes, seed = field index); ids of
// different fields do not collide in practice and raw strings never travel.
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace tessera {

// The fixed, documented feature hash: XXH64(value, seed = field). Stable across
// versions: changing it invalidates every trained model.
uint64_t FeatureId(uint32_t field, std::string_view value);

// A strong 64-bit mixer (splitmix64 finaliser) for keys that are already hashes.
inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// The next number of a splitmix64 stream whose state is *state: a small, fast,
// deterministic generator (tests, benchmarks, negative sampling).
inline uint64_t SplitMix64Next(uint64_t* state) {
  *state += 0x9e3779b97f4a7c15ULL;
  return Mix64(*state);
}

// slot = mix(key) mod 2^slot_bits. A slot table maps slots to servers.
inline uint32_t SlotOf(uint64_t key, int slot_bits) {
  return static_cast<uint32_t>(Mix64(key ^ 0x5107u) & ((uint64_t{1} << slot_bits) - 1));
}

// Deterministic uniform in [0, 1) from (seed, stream, key, index): the source of
// every initial value, so that a parameter's start never depends on placement.
double UniformFromKey(uint64_t seed, uint64_t stream, uint64_t key, uint64_t index);

// Deterministic standard normal from the same inputs (Box-Muller on two uniforms).
double NormalFromKey(uint64_t seed, uint64_t stream, uint64_t key, uint64_t index);

}  // namespace tessera
