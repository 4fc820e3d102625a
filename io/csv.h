// Parser for delimited text (CSV, TSV) whose columns a schema describes (data.csv in
// the job config): one column is the label, DENSE columns are the dense features in
// column order, CATEGORICAL and MULTI_HOT columns the sparse fields in column order,
// IGNORE columns are skipped. Keeps scratch buffers: one parser per reader (not
// thread-safe); the options are copied in.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "io/batch.h"
#include "io/line_parser.h"
#include "io/text_fields.h"
#include "proto/config.pb.h"

namespace tessera::io {

struct CsvColumnSpec {
  enum class Role { kIgnore, kLabel, kDense, kCategorical, kMultiHot };
  Role role = Role::kIgnore;
  std::string display_name;  // "column[2] 'price'" (or "column[2]" without a name)
  std::string separator;     // kMultiHot: between values, not empty
  bool log1p = false;        // kDense: log(1 + max(x, 0)) instead of x
};

struct CsvOptions {
  char delimiter = ',';
  bool header = false;  // the first line of every file is skipped
  LabelKind label_kind = LabelKind::kBinary;
  std::vector<CsvColumnSpec> columns;  // in file order
  // Derived from columns (CsvOptionsFromConfig fills them):
  int num_fields = 0;                    // CATEGORICAL and MULTI_HOT columns
  int num_dense = 0;                     // DENSE columns
  std::vector<std::string> field_names;  // the sparse columns' names (or "column[i]")
};

// Checks `schema` and builds the options. Errors name the field:
//   "data.csv.delimiter must be one character, got ';;'"
//   "data.csv.column[2].separator must not be empty (MULTI_HOT)"
//   "data.csv.column: exactly one column must be the LABEL, found 0"
// A delimiter of "\t" (a tab, or the two characters backslash and t) means TSV.
StatusOr<CsvOptions> CsvOptionsFromConfig(const pb::CsvSchema& schema, LabelKind label_kind);

// How one line becomes one example:
//   Splitting   at `delimiter`; a field may be double-quoted ("a,b" is one value; ""
//               inside quotes is one "), quotes are not part of the value. The line
//               must have exactly columns.size() fields.
//   LABEL       ParseLabel(label_kind).
//   DENSE       a number, empty -> 0; with log1p, log(1 + max(x, 0)).
//   CATEGORICAL any text; key FeatureId(sparse field index, text); empty -> empty bag.
//   MULTI_HOT   values split at `separator`, each FeatureId(sparse field index, value);
//               empty values are skipped.
// Errors name the column: "column[3] 'price': 'abc' is not a number".
class CsvParser : public LineParser {
 public:
  explicit CsvParser(CsvOptions options) : options_(std::move(options)) {}

  // Sets batch->num_fields and num_dense from the options; writes no values.
  Status ParseLine(std::string_view line, Batch* batch) override;
  bool SkipsFirstLineOfFile() const override { return options_.header; }

 private:
  // Splits `line` into fields_ (unquoting into quoted_ where needed).
  Status Split(std::string_view line);
  // Appends the keys of sparse column `column` (field `field`) to keys_.
  void AddKeys(const CsvColumnSpec& column, uint32_t field, std::string_view text);

  CsvOptions options_;
  std::vector<std::string_view> fields_;  // of the line being parsed
  std::string quoted_;                    // unescaped quoted fields; never reallocated mid-line
  std::vector<float> dense_;
  std::vector<uint64_t> keys_;
  std::vector<int32_t> bag_ends_;  // keys_ index after each sparse field's bag
};

}  // namespace tessera::io
