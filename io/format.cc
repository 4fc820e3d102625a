#include "io/format.h"

#include <algorithm>

#include "io/criteo.h"
#include "io/csv.h"
#include "io/hash_buckets.h"
#include "io/libffm.h"
#include "io/libsvm.h"
#include "io/movielens.h"

namespace tessera::io {
namespace {

// Field names "<prefix><first>" .. "<prefix><first + n - 1>".
std::vector<std::string> NumberedNames(const std::string& prefix, int first, int n) {
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) names.push_back(prefix + std::to_string(first + i));
  return names;
}

}  // namespace

FeatureLayout CriteoLayout() {
  FeatureLayout layout;
  layout.num_fields = CriteoParser::kNumFields;
  layout.num_dense = CriteoParser::kNumDense;
  layout.field_names = NumberedNames("C", 1, CriteoParser::kNumFields);
  return layout;
}

StatusOr<std::unique_ptr<DataFormat>> DataFormat::Create(const pb::DataConfig& config,
                                                         LabelKind labels) {
  FeatureLayout layout;
  layout.value_labels = labels == LabelKind::kValue;
  ParserFactory factory;
  char csv_delimiter = ',';
  std::vector<int> csv_field_columns;
  switch (config.format()) {
    case pb::CRITEO:
      layout = CriteoLayout();
      factory = [] { return std::make_unique<CriteoParser>(); };
      break;
    case pb::LIBSVM:
      layout.num_fields = 1;
      layout.field_names = {"features"};
      factory = [labels] { return std::make_unique<LibsvmParser>(labels); };
      break;
    case pb::LIBFFM: {
      const int fields = config.libffm_fields();
      if (fields < 1) {
        return Status::InvalidArgument(
            "data.libffm_fields must be at least 1 for format LIBFFM, "
            "got " +
            std::to_string(fields));
      }
      layout.num_fields = fields;
      layout.field_names = NumberedNames("field", 0, fields);
      factory = [fields, labels] { return std::make_unique<LibffmParser>(fields, labels); };
      break;
    }
    case pb::CSV: {
      if (!config.has_csv()) {
        return Status::InvalidArgument("data.csv: format CSV needs the columns described");
      }
      ASSIGN_OR_RETURN(CsvOptions options, CsvOptionsFromConfig(config.csv(), labels));
      layout.num_fields = options.num_fields;
      layout.num_dense = options.num_dense;
      layout.field_names = options.field_names;
      csv_delimiter = options.delimiter;
      for (size_t c = 0; c < options.columns.size(); ++c) {
        const CsvColumnSpec::Role role = options.columns[c].role;
        if (role == CsvColumnSpec::Role::kCategorical || role == CsvColumnSpec::Role::kMultiHot) {
          csv_field_columns.push_back(static_cast<int>(c));
        }
      }
      factory = [options = std::move(options)] { return std::make_unique<CsvParser>(options); };
      break;
    }
    case pb::MOVIELENS: {
      const pb::MovieLensConfig& ml = config.movielens();
      const float threshold = ml.positive_threshold();
      if (!(threshold >= 0)) {
        return Status::InvalidArgument("data.movielens.positive_threshold must not be negative");
      }
      ASSIGN_OR_RETURN(std::shared_ptr<const MovieLensTables> tables, MovieLensTables::Load(ml));
      layout.num_fields = tables->num_fields();
      layout.user_fields = tables->user_fields();
      layout.field_names = tables->field_names();
      layout.value_labels = threshold == 0;
      if (layout.value_labels) {
        layout.min_label = 1.0f;
        layout.max_label = 5.0f;
      }
      factory = [tables, threshold] {
        return std::make_unique<MovieLensParser>(tables, threshold);
      };
      break;
    }
    default:
      return Status::InvalidArgument("data.format " + std::to_string(config.format()) +
                                     " is not a known format");
  }
  const int64_t buckets = config.hash_buckets();
  if (buckets < 0 || buckets > kMaxHashBuckets) {
    return Status::InvalidArgument("data.hash_buckets must be between 0 (off) and 2^40 (" +
                                   std::to_string(kMaxHashBuckets) + "), got " +
                                   std::to_string(buckets));
  }
  if (buckets > 0) {
    factory = [inner = std::move(factory), buckets]() -> std::unique_ptr<LineParser> {
      return std::make_unique<HashBucketParser>(inner(), buckets);
    };
  }
  std::unique_ptr<DataFormat> format(new DataFormat(std::move(layout), std::move(factory)));
  format->format_ = config.format();
  format->csv_delimiter_ = csv_delimiter;
  format->csv_field_columns_ = std::move(csv_field_columns);
  return format;
}

StatusOr<UserItemText> DataFormat::UserAndItem(std::string_view line, int user_fields) const {
  std::vector<std::string_view> fields;
  switch (format_) {
    case pb::MOVIELENS:
      SplitRatingLine(line, &fields);
      if (fields.size() < 2) return Status::InvalidArgument("no user and item columns");
      return UserItemText{fields[0], fields[1]};
    case pb::CSV: {
      if (user_fields < 1 || user_fields >= static_cast<int>(csv_field_columns_.size())) {
        return Status::InvalidArgument("user_fields " + std::to_string(user_fields) +
                                       " leaves no user or no item field");
      }
      SplitOn(line, std::string_view(&csv_delimiter_, 1), &fields);
      const size_t user = csv_field_columns_[0], item = csv_field_columns_[user_fields];
      if (fields.size() <= std::max(user, item)) {
        return Status::InvalidArgument("too few columns for the user and item fields");
      }
      auto unquote = [](std::string_view v) {
        return v.size() >= 2 && v.front() == '"' && v.back() == '"' ? v.substr(1, v.size() - 2)
                                                                    : v;
      };
      return UserItemText{unquote(fields[user]), unquote(fields[item])};
    }
    default:
      return Status::InvalidArgument(
          "format " + pb::DataFormat_Name(format_) +
          " does not name users and items (use MOVIELENS or CSV for recommendations)");
  }
}

}  // namespace tessera::io
