// Large buffers on transparent huge pages (MADV_HUGEPAGE; this kernel's THP mode is
// "madvise", so nothing gets them unasked). A sparse table reads its slots and rows at
// random over hundreds of MB: with 4 KiB pages nearly every access also misses the
// TLB, and in a VM each page walk is a nested one. On 2 MiB pages the same random row
// reads ran 30% faster (bench/RESULTS.md, issue 5).
//
// Buffers under 2 MiB stay ordinary 64-byte-aligned allocations, so a small table
// does not pin a 2 MiB page. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>

namespace tessera::ps {

// The huge page size assumed (x86-64).
inline constexpr size_t kHugePageBytes = size_t{2} << 20;

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
template <typename T>
using LargeArray = std::unique_ptr<T[], FreeDeleter>;

// Uninitialised memory for `bytes` (> 0), 64-byte aligned; from kHugePageBytes up,
// 2 MiB-aligned, rounded up to whole huge pages and advised MADV_HUGEPAGE (advice the
// kernel may ignore: the memory works either way). CHECK-fails when out of memory.
void* AllocateLarge(size_t bytes);

template <typename T>
LargeArray<T> AllocateLargeArray(size_t n) {
  return LargeArray<T>(static_cast<T*>(AllocateLarge(n * sizeof(T))));
}

}  // namespace tessera::ps
