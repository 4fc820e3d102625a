#include "io/csv.h"

#include <glog/logging.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/hash.h"

namespace tessera::io {
namespace {

using Role = CsvColumnSpec::Role;

Role RoleOf(pb::CsvColumn::Role role) {
  switch (role) {
    case pb::CsvColumn::LABEL:
      return Role::kLabel;
    case pb::CsvColumn::DENSE:
      return Role::kDense;
    case pb::CsvColumn::CATEGORICAL:
      return Role::kCategorical;
    case pb::CsvColumn::MULTI_HOT:
      return Role::kMultiHot;
    case pb::CsvColumn::IGNORE:
      break;
  }
  return Role::kIgnore;
}

StatusOr<char> DelimiterOf(const std::string& delimiter) {
  if (delimiter == "\\t") return '\t';
  if (delimiter.size() != 1 || delimiter[0] == '"' || delimiter[0] == '\n') {
    return Status::InvalidArgument(
        "data.csv.delimiter must be one character other than '\"', "
        "got " +
        QuoteValue(delimiter));
  }
  return delimiter[0];
}

// Checks column `i` and appends it to *options.
Status AddColumn(const pb::CsvColumn& c, int i, CsvOptions* options) {
  const std::string field = "data.csv.column[" + std::to_string(i) + "]";
  CsvColumnSpec spec;
  spec.role = RoleOf(c.role());
  spec.display_name = "column[" + std::to_string(i) + "]";
  if (!c.name().empty()) spec.display_name += " '" + c.name() + "'";
  spec.separator = c.separator();
  spec.log1p = c.log1p();
  if (spec.log1p && spec.role != Role::kDense) {
    return Status::InvalidArgument(field + ".log1p: only a DENSE column takes log1p");
  }
  if (spec.role == Role::kMultiHot) {
    if (spec.separator.empty()) {
      return Status::InvalidArgument(field + ".separator must not be empty (MULTI_HOT)");
    }
    if (spec.separator.find(options->delimiter) != std::string::npos) {
      return Status::InvalidArgument(field + ".separator " + QuoteValue(spec.separator) +
                                     " must not hold the delimiter");
    }
  }
  if (spec.role == Role::kDense) ++options->num_dense;
  if (spec.role == Role::kCategorical || spec.role == Role::kMultiHot) {
    ++options->num_fields;
    options->field_names.push_back(c.name().empty() ? "column[" + std::to_string(i) + "]"
                                                    : c.name());
  }
  options->columns.push_back(std::move(spec));
  return Status::OK();
}

}  // namespace

StatusOr<CsvOptions> CsvOptionsFromConfig(const pb::CsvSchema& schema, LabelKind label_kind) {
  CsvOptions options;
  ASSIGN_OR_RETURN(options.delimiter, DelimiterOf(schema.delimiter()));
  options.header = schema.header();
  options.label_kind = label_kind;
  if (schema.column_size() == 0) {
    return Status::InvalidArgument(
        "data.csv.column: describe every column of the file (format "
        "CSV needs data.csv)");
  }
  int labels = 0;
  for (int i = 0; i < schema.column_size(); ++i) {
    RETURN_IF_ERROR(AddColumn(schema.column(i), i, &options));
    if (options.columns.back().role == Role::kLabel) ++labels;
  }
  if (labels != 1) {
    return Status::InvalidArgument("data.csv.column: exactly one column must be the LABEL, found " +
                                   std::to_string(labels));
  }
  if (options.num_fields + options.num_dense == 0) {
    return Status::InvalidArgument(
        "data.csv.column: no DENSE, CATEGORICAL or MULTI_HOT column, "
        "so there is nothing to learn from");
  }
  return options;
}

Status CsvParser::Split(std::string_view line) {
  fields_.clear();
  quoted_.clear();
  quoted_.reserve(line.size());  // views into quoted_ stay valid for the whole line
  const char delimiter = options_.delimiter;
  size_t pos = 0;
  while (true) {
    if (pos < line.size() && line[pos] == '"') {
      const size_t start = quoted_.size();
      size_t i = pos + 1;
      for (;; ++i) {
        if (i >= line.size()) {
          return Status::InvalidArgument("field " + std::to_string(fields_.size() + 1) +
                                         ": a quote is not closed");
        }
        if (line[i] != '"') {
          quoted_.push_back(line[i]);
        } else if (i + 1 < line.size() && line[i + 1] == '"') {
          quoted_.push_back('"');
          ++i;
        } else {
          break;
        }
      }
      fields_.emplace_back(quoted_.data() + start, quoted_.size() - start);
      pos = i + 1;
      if (pos == line.size()) return Status::OK();
      if (line[pos] != delimiter) {
        return Status::InvalidArgument("field " + std::to_string(fields_.size()) +
                                       ": text after its closing quote");
      }
      ++pos;
      continue;
    }
    const char* p = line.data() + pos;
    const void* found = std::memchr(p, delimiter, line.size() - pos);
    if (found == nullptr) {
      fields_.push_back(line.substr(pos));
      return Status::OK();
    }
    const size_t end = static_cast<const char*>(found) - line.data();
    fields_.push_back(line.substr(pos, end - pos));
    pos = end + 1;
  }
}

void CsvParser::AddKeys(const CsvColumnSpec& column, uint32_t field, std::string_view text) {
  if (column.role == Role::kCategorical) {
    if (!text.empty()) keys_.push_back(FeatureId(field, text));
    return;
  }
  const std::string_view separator = column.separator;
  while (true) {
    const size_t at = text.find(separator);
    const std::string_view value = text.substr(0, at);
    if (!value.empty()) keys_.push_back(FeatureId(field, value));
    if (at == std::string_view::npos) return;
    text.remove_prefix(at + separator.size());
  }
}

Status CsvParser::ParseLine(std::string_view line, Batch* batch) {
  CHECK(batch->size() == 0 ||
        (batch->num_fields == options_.num_fields && batch->num_dense == options_.num_dense))
      << "a CSV example appended to a batch of another shape";
  RETURN_IF_ERROR(Split(line));
  if (fields_.size() != options_.columns.size()) {
    return Status::InvalidArgument("expected " + std::to_string(options_.columns.size()) +
                                   " fields separated by " + QuoteValue({&options_.delimiter, 1}) +
                                   ", found " + std::to_string(fields_.size()));
  }
  float label = 0.0f;
  dense_.clear();
  keys_.clear();
  bag_ends_.clear();
  for (size_t i = 0; i < fields_.size(); ++i) {
    const CsvColumnSpec& column = options_.columns[i];
    const std::string_view text = fields_[i];
    switch (column.role) {
      case Role::kIgnore:
        break;
      case Role::kLabel: {
        Status parsed = ParseLabel(text, options_.label_kind, &label);
        if (!parsed.ok()) return parsed.WithContext(column.display_name);
        break;
      }
      case Role::kDense: {
        float x = 0.0f;
        if (!text.empty()) {
          Status parsed = ParseNumber(text, "value", &x);
          if (!parsed.ok()) return parsed.WithContext(column.display_name);
        }
        dense_.push_back(column.log1p ? std::log1p(std::max(x, 0.0f)) : x);
        break;
      }
      case Role::kCategorical:
      case Role::kMultiHot:
        AddKeys(column, static_cast<uint32_t>(bag_ends_.size()), text);
        bag_ends_.push_back(static_cast<int32_t>(keys_.size()));
        break;
    }
  }
  batch->num_fields = options_.num_fields;
  batch->num_dense = options_.num_dense;
  if (batch->offsets.empty()) batch->offsets.push_back(0);
  const int32_t base = static_cast<int32_t>(batch->keys.size());
  batch->labels.push_back(label);
  batch->dense.insert(batch->dense.end(), dense_.begin(), dense_.end());
  batch->keys.insert(batch->keys.end(), keys_.begin(), keys_.end());
  for (int32_t end : bag_ends_) batch->offsets.push_back(base + end);
  return Status::OK();
}

}  // namespace tessera::io
