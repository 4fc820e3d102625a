#include "io/criteo.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "common/hash.h"

namespace tessera::io {
namespace {

// Values quoted in error messages are cut to this many bytes, so that a line of
// garbage does not become a megabyte of log.
constexpr size_t kMaxQuotedBytes = 40;

std::string Quote(std::string_view value) {
  if (value.size() <= kMaxQuotedBytes) return "'" + std::string(value) + "'";
  return "'" + std::string(value.substr(0, kMaxQuotedBytes)) + "...'";
}

// Splits `line` at tabs into `fields`; returns the number of fields found, which may
// exceed fields.size() (the extra ones are counted, not stored).
template <size_t N>
int SplitTabs(std::string_view line, std::array<std::string_view, N>* fields) {
  int count = 0;
  const char* p = line.data();
  const char* end = p + line.size();
  while (true) {
    const char* tab = static_cast<const char*>(std::memchr(p, '\t', end - p));
    const char* field_end = tab ? tab : end;
    if (count < static_cast<int>(N)) (*fields)[count] = std::string_view(p, field_end - p);
    ++count;
    if (!tab) return count;
    p = tab + 1;
  }
}

Status ParseLabel(std::string_view field, float* label) {
  if (field == "0" || field == "1") {
    *label = field == "1" ? 1.0f : 0.0f;
    return Status::OK();
  }
  if (field.empty()) return Status::InvalidArgument("label is missing (expected 0 or 1)");
  return Status::InvalidArgument("label " + Quote(field) + " is not 0 or 1");
}

// I<index+1>: log(1 + max(x, 0)), or 0 when missing.
Status ParseDense(int index, std::string_view field, float* value) {
  if (field.empty()) {
    *value = 0.0f;
    return Status::OK();
  }
  int64_t x = 0;
  const char* end = field.data() + field.size();
  auto [ptr, ec] = std::from_chars(field.data(), end, x);
  if (ec == std::errc::result_out_of_range) {
    return Status::InvalidArgument("I" + std::to_string(index + 1) + " " + Quote(field) +
                                   " is out of the 64-bit integer range");
  }
  if (ec != std::errc() || ptr != end) {
    return Status::InvalidArgument("I" + std::to_string(index + 1) + " " + Quote(field) +
                                   " is not an integer");
  }
  *value = static_cast<float>(std::log1p(static_cast<double>(std::max<int64_t>(x, 0))));
  return Status::OK();
}

}  // namespace

Status CriteoParser::ParseLine(std::string_view line, Batch* batch) {
  CHECK(batch->size() == 0 || (batch->num_fields == kNumFields && batch->num_dense == kNumDense))
      << "a Criteo example appended to a batch of another shape";
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

  std::array<std::string_view, kNumColumns> fields;
  const int found = SplitTabs(line, &fields);
  if (found != kNumColumns) {
    return Status::InvalidArgument("expected " + std::to_string(kNumColumns) +
                                   " tab-separated fields, found " + std::to_string(found));
  }
  // Parse everything before touching the batch, so a bad line appends nothing.
  float label = 0.0f;
  RETURN_IF_ERROR(ParseLabel(fields[0], &label));
  std::array<float, kNumDense> dense;
  for (int i = 0; i < kNumDense; ++i) {
    RETURN_IF_ERROR(ParseDense(i, fields[1 + i], &dense[i]));
  }

  batch->num_fields = kNumFields;
  batch->num_dense = kNumDense;
  if (batch->offsets.empty()) batch->offsets.push_back(0);
  batch->labels.push_back(label);
  batch->dense.insert(batch->dense.end(), dense.begin(), dense.end());
  for (int f = 0; f < kNumFields; ++f) {
    batch->keys.push_back(FeatureId(static_cast<uint32_t>(f), fields[1 + kNumDense + f]));
    batch->offsets.push_back(static_cast<int32_t>(batch->keys.size()));
  }
  return Status::OK();
}

}  // namespace tessera::io
