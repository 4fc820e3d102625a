// Parser for the Criteo Display Advertising Challenge TSV format:
//   label \t I1 .. I13 \t C1 .. C26      (exactly 40 tab-separated fields)
// An empty field is missing. Stateless and allocation-free per line; one instance may
// be shared by readers on different threads only if they do not call it concurrently
// (it has no state today, but the LineParser contract does not promise that).
#pragma once

#include <string_view>

#include "common/status.h"
#include "io/batch.h"
#include "io/line_parser.h"

namespace tessera::io {

// How one Criteo line becomes one example (the same mapping as the PyTorch reference,
// peers/torch_ctr.py, with --dense log):
//   label      "0" or "1" -> 0.0f or 1.0f.
//   I1..I13    integers, possibly negative; dense value log(1 + max(x, 0)) as float,
//              missing -> 0.
//   C1..C26    one key per field (one-hot): FeatureId(field index 0..25, raw bytes);
//              a missing value hashes the empty string of its field, so it has its own key.
// A trailing '\r' (CRLF files) is ignored.
class CriteoParser : public LineParser {
 public:
  static constexpr int kNumDense = 13;
  static constexpr int kNumFields = 26;
  static constexpr int kNumColumns = 1 + kNumDense + kNumFields;

  // Sets batch->num_fields = 26 and batch->num_dense = 13. The batch must be empty or
  // already hold Criteo examples (mixing formats in one batch is a programmer error).
  Status ParseLine(std::string_view line, Batch* batch) override;
};

}  // namespace tessera::io
