#include "ps/huge_pages.h"

#include <glog/logging.h>
#include <sys/mman.h>

namespace tessera::ps {

void* AllocateLarge(size_t bytes) {
  CHECK_GT(bytes, 0u);
  const bool huge = bytes >= kHugePageBytes;
  const size_t align = huge ? kHugePageBytes : 64;
  const size_t rounded = (bytes + align - 1) / align * align;  // aligned_alloc's rule
  void* p = std::aligned_alloc(align, rounded);
  CHECK(p != nullptr) << "out of memory: " << rounded << " bytes";
  if (huge) madvise(p, rounded, MADV_HUGEPAGE);  // advice only: failure changes nothing
  return p;
}

}  // namespace tessera::ps
