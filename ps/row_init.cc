#include "ps/row_init.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "common/hash.h"

namespace tessera::ps {

Status ValidateColumnInit(std::span<const ColumnInit> init, int dim) {
  std::vector<bool> covered(std::max(dim, 0), false);
  for (size_t i = 0; i < init.size(); ++i) {
    const ColumnInit& c = init[i];
    std::string where = "column init " + std::to_string(i) + " [" + std::to_string(c.begin) + ", " +
                        std::to_string(c.end) + ")";
    if (c.begin < 0 || c.end <= c.begin || c.end > dim) {
      return Status::InvalidArgument(where + " is not a non-empty range within the row of " +
                                     std::to_string(dim) + " floats");
    }
    if (!std::isfinite(c.scale)) return Status::InvalidArgument(where + " has a non-finite scale");
    for (int col = c.begin; col < c.end; ++col) {
      if (covered[col]) {
        return Status::InvalidArgument(where + " overlaps an earlier range at column " +
                                       std::to_string(col));
      }
      covered[col] = true;
    }
  }
  return Status::OK();
}

void FillInitialRow(std::span<const ColumnInit> init, uint64_t seed, uint32_t table_id,
                    uint64_t key, std::span<float> row) {
  std::fill(row.begin(), row.end(), 0.0f);
  for (const ColumnInit& c : init) {
    if (c.kind != ColumnInit::Kind::kNormal) continue;
    for (int col = c.begin; col < c.end; ++col) {
      row[col] = static_cast<float>(NormalFromKey(seed, table_id, key, col) * c.scale);
    }
  }
}

}  // namespace tessera::ps
