#include "io/format.h"

#include "io/criteo.h"
#include "io/csv.h"
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
  return std::unique_ptr<DataFormat>(new DataFormat(std::move(layout), std::move(factory)));
}

}  // namespace tessera::io
