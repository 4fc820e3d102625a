// A data format as the job config describes it (data.format and its options): the
// shape of the examples it yields (FeatureLayout) and a factory of parsers for it.
// Built once per process from pb::DataConfig (side files are read then); afterwards
// immutable, so NewParser and layout may be called from any thread. Each parser owns
// its scratch and shares the format's read-only tables.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "io/line_parser.h"
#include "io/text_fields.h"
#include "proto/config.pb.h"

namespace tessera::io {

// The shape of every example of a format: what ToModelSpec needs.
struct FeatureLayout {
  int num_fields = 0;  // sparse fields F (bags per example)
  int num_dense = 0;   // dense features D
  // Fields [0, user_fields) describe the user (MovieLens: 1 or 4); 0 when unknown.
  int user_fields = 0;
  std::vector<std::string> field_names;  // F names, for messages and `tessera inspect`
  bool value_labels = false;             // labels are values (ratings), not 0/1
  // The label range when the format knows it (MovieLens ratings without a threshold:
  // 1 and 5, the range of ml-100k and ml-1m), else both 0.
  float min_label = 0.0f;
  float max_label = 0.0f;
};

// The layout of CRITEO: 26 fields C1..C26, 13 dense I1..I13, 0/1 labels.
FeatureLayout CriteoLayout();

// The raw text naming an example's user and item (views into the line).
struct UserItemText {
  std::string_view user;
  std::string_view item;
};

class DataFormat {
 public:
  // Checks the format's options in `config` and reads its side files. `labels` says
  // what the model's loss needs (kBinary for BCE, kValue for MSE); it decides how
  // LIBSVM, LIBFFM and CSV read their label (MovieLens follows its
  // positive_threshold, Criteo is 0/1). Errors name the config field
  // ("data.csv.column[2].separator must not be empty (MULTI_HOT)",
  // "data.libffm_fields must be at least 1 for format LIBFFM") or the side file's
  // line ("u.user:7: age 'x' is not a non-negative integer").
  static StatusOr<std::unique_ptr<DataFormat>> Create(const pb::DataConfig& config,
                                                      LabelKind labels = LabelKind::kBinary);

  const FeatureLayout& layout() const { return layout_; }

  // A new parser with its own scratch state.
  std::unique_ptr<LineParser> NewParser() const { return new_parser_(); }

  // The text of the first user field and of the first item field (field user_fields)
  // of `line`, to name users and items (`tessera recommend`). MOVIELENS: the user and
  // item columns; CSV: the columns of sparse fields 0 and user_fields (split at the
  // delimiter, surrounding double quotes dropped). Other formats name no users:
  // InvalidArgument.
  StatusOr<UserItemText> UserAndItem(std::string_view line, int user_fields) const;

 private:
  using ParserFactory = std::function<std::unique_ptr<LineParser>()>;
  DataFormat(FeatureLayout layout, ParserFactory new_parser)
      : layout_(std::move(layout)), new_parser_(std::move(new_parser)) {}

  FeatureLayout layout_;
  ParserFactory new_parser_;  // captures only immutable, shared state
  pb::DataFormat format_ = pb::CRITEO;
  char csv_delimiter_ = ',';
  std::vector<int> csv_field_columns_;  // CSV: the column of each sparse field
};

}  // namespace tessera::io
