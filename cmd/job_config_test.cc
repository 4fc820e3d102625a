#include "cmd/job_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace tessera::cmd {
namespace {

using ::testing::ContainsRegex;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A config that passes ValidateJobConfig: defaults plus one training file.
constexpr char kMinimalConfig[] = "data { train: \"train.txt\" }\n";

pb::JobConfig Parse(const std::string& text) {
  auto config = ParseJobConfig(text, "job.pbtxt");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return config.ok() ? *config : pb::JobConfig();
}

// Validates kMinimalConfig followed by `extra`.
Status ValidateMinimalPlus(const std::string& extra) {
  return ValidateJobConfig(Parse(std::string(kMinimalConfig) + extra));
}

TEST(ParseJobConfigTest, EmptyConfigHasTheDocumentedDefaults) {
  pb::JobConfig c = Parse("");

  EXPECT_EQ(c.data().train_size(), 0);
  EXPECT_EQ(c.data().format(), pb::CRITEO);
  EXPECT_EQ(c.data().batch_size(), 1024);
  EXPECT_EQ(c.data().chunk_bytes(), 4194304);
  EXPECT_DOUBLE_EQ(c.data().max_bad_line_ratio(), 0.01);
  EXPECT_EQ(c.model().kind(), pb::DEEPFM);
  EXPECT_EQ(c.model().embedding_dim(), 16);
  EXPECT_EQ(c.model().mlp_hidden_size(), 0);
  EXPECT_EQ(c.model().activation(), pb::RELU);
  EXPECT_FLOAT_EQ(c.model().init_std(), 0.01f);
  EXPECT_EQ(c.model().dlrm_bottom_mlp_size(), 0);
  EXPECT_EQ(c.model().dlrm_top_mlp_size(), 0);
  EXPECT_EQ(c.model().cross_layers(), 3);
  EXPECT_EQ(c.training().epochs(), 1);
  EXPECT_EQ(c.training().seed(), 42u);
  EXPECT_EQ(c.training().consistency(), pb::BSP);
  for (const pb::OptimizerConfig& o :
       {c.training().sparse_optimizer(), c.training().dense_optimizer()}) {
    EXPECT_EQ(o.kind(), pb::ADAM);
    EXPECT_FLOAT_EQ(o.learning_rate(), 0.001f);
    EXPECT_FLOAT_EQ(o.beta1(), 0.9f);
    EXPECT_FLOAT_EQ(o.beta2(), 0.999f);
    EXPECT_FLOAT_EQ(o.epsilon(), 1e-8f);
    EXPECT_FLOAT_EQ(o.initial_accumulator(), 0.0f);
    EXPECT_FLOAT_EQ(o.l2(), 0.0f);
  }
  EXPECT_EQ(c.cluster().timeout_ms(), 120000);
  EXPECT_EQ(c.cluster().connect_timeout_ms(), 30000);
  EXPECT_EQ(c.cluster().slot_bits(), 14);
  EXPECT_EQ(c.cluster().server_threads(), 1);
  EXPECT_EQ(c.cluster().dense_block_floats(), 65536);
  EXPECT_DOUBLE_EQ(c.cluster().progress_interval_s(), 5.0);
  EXPECT_EQ(c.cluster().heartbeat_interval_ms(), 1000);
  EXPECT_EQ(c.cluster().heartbeat_timeout_ms(), 10000);
  EXPECT_EQ(c.output().model_dir(), "tessera-model");
}

TEST(ParseJobConfigTest, UnknownFieldErrorNamesSourceLineColumnAndField) {
  auto config = ParseJobConfig("data {\n  batchsize: 5\n}\n", "job.pbtxt");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), Status::Code::kInvalidArgument);
  // Protobuf places the column at the token after the field name; pin only that there is one.
  EXPECT_THAT(config.status().message(), ContainsRegex("^job\\.pbtxt:2:[0-9]+: "));
  EXPECT_THAT(config.status().message(), HasSubstr("\"batchsize\""));
}

TEST(ParseJobConfigTest, BadEnumValueIsAnErrorNamingTheValue) {
  auto config = ParseJobConfig("data {}\nmodel { kind: XGBOOST }\n", "job.pbtxt");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(config.status().message(), ContainsRegex("^job\\.pbtxt:2:[0-9]+: "));
  EXPECT_THAT(config.status().message(), HasSubstr("\"XGBOOST\""));
  EXPECT_THAT(config.status().message(), HasSubstr("\"kind\""));
}

TEST(LoadJobConfigTest, MissingFileIsNotFoundNamingThePath) {
  auto config = LoadJobConfig("/nonexistent/tessera/job.pbtxt");
  EXPECT_EQ(config.status().code(), Status::Code::kNotFound);
  EXPECT_THAT(config.status().message(), HasSubstr("/nonexistent/tessera/job.pbtxt"));
}

TEST(LoadJobConfigTest, ReadsAFileAndNamesItInErrors) {
  std::string dir = ::testing::TempDir();
  if (dir.empty() || dir.back() != '/') dir += '/';
  const std::string good = dir + "job_config_test_" + std::to_string(getpid()) + "_good.pbtxt";
  const std::string bad = dir + "job_config_test_" + std::to_string(getpid()) + "_bad.pbtxt";
  std::ofstream(good) << "training { epochs: 3 }\n";
  std::ofstream(bad) << "\ntraining { epoch: 3 }\n";

  auto loaded = LoadJobConfig(good);
  auto refused = LoadJobConfig(bad);
  std::remove(good.c_str());
  std::remove(bad.c_str());

  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->training().epochs(), 3);
  EXPECT_THAT(refused.status().message(), StartsWith(bad + ":2:"));
  EXPECT_THAT(refused.status().message(), HasSubstr("\"epoch\""));
}

TEST(ValidateJobConfigTest, AcceptsDefaultsWithATrainingFile) {
  Status s = ValidateJobConfig(Parse(kMinimalConfig));
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(ValidateJobConfigTest, RequiresATrainingFile) {
  Status s = ValidateJobConfig(Parse(""));
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("data.train"));
}

TEST(ValidateJobConfigTest, RejectsHeartbeatsThatCannotDetectALostRankInTime) {
  EXPECT_THAT(ValidateMinimalPlus("cluster { heartbeat_interval_ms: 5 }").message(),
              HasSubstr("cluster.heartbeat_interval_ms must be at least 10"));
  EXPECT_THAT(
      ValidateMinimalPlus("cluster { heartbeat_interval_ms: 500 heartbeat_timeout_ms: 1000 }")
          .message(),
      HasSubstr("cluster.heartbeat_timeout_ms must be at least 3 x"));
  EXPECT_THAT(ValidateMinimalPlus("cluster { timeout_ms: 8000 }").message(),
              HasSubstr("cluster.heartbeat_timeout_ms (10000) must be below cluster.timeout_ms"));
  EXPECT_TRUE(ValidateMinimalPlus("cluster { timeout_ms: 8000 heartbeat_timeout_ms: 4000 }").ok());
}

TEST(ValidateJobConfigTest, RejectsServerThreadsOutOfRangeNamingTheField) {
  EXPECT_THAT(ValidateMinimalPlus("cluster { server_threads: 0 }").message(),
              HasSubstr("cluster.server_threads must be in [1, 64], got 0"));
  EXPECT_THAT(ValidateMinimalPlus("cluster { server_threads: 65 }").message(),
              HasSubstr("cluster.server_threads must be in [1, 64], got 65"));
  EXPECT_TRUE(ValidateMinimalPlus("cluster { server_threads: 1 }").ok());
}

TEST(ValidateJobConfigTest, RejectsZeroEpochsNamingTheField) {
  Status s = ValidateMinimalPlus("training { epochs: 0 }");
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("training.epochs must be at least 1, got 0"));
}

TEST(ValidateJobConfigTest, RejectsZeroEmbeddingDimNamingTheField) {
  Status s = ValidateMinimalPlus("model { embedding_dim: 0 }");
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("model.embedding_dim"));
  EXPECT_THAT(s.message(), HasSubstr("got 0"));
}

TEST(ValidateJobConfigTest, RejectsNegativeSparseLearningRateNamingTheField) {
  Status s = ValidateMinimalPlus("training { sparse_optimizer { learning_rate: -0.1 } }");
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("training.sparse_optimizer.learning_rate"));
}

TEST(ValidateJobConfigTest, RejectsNegativeDenseLearningRateNamingTheField) {
  Status s = ValidateMinimalPlus("training { dense_optimizer { learning_rate: -0.1 } }");
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("training.dense_optimizer.learning_rate"));
}

TEST(ValidateJobConfigTest, AcceptsFtrlWithL1AndASchedule) {
  EXPECT_TRUE(ValidateMinimalPlus("training { sparse_optimizer { kind: FTRL learning_rate: 0.05 "
                                  "l1: 1 l2: 0.1 ftrl_beta: 1 } dense_optimizer { warmup_steps: "
                                  "100 decay: INVERSE_SQRT decay_steps: 50 decay_rate: 1 } }")
                  .ok());
}

TEST(ValidateJobConfigTest, RejectsBadRegularisationAndScheduleFieldsNamingThem) {
  struct Case {
    const char* body;     // inside training { ... }
    const char* message;  // the error starts with it
  };
  const Case cases[] = {
      {"sparse_optimizer { l1: -0.5 }", "training.sparse_optimizer.l1 must not be negative"},
      {"dense_optimizer { l1: -0.5 }", "training.dense_optimizer.l1 must not be negative"},
      {"sparse_optimizer { kind: FTRL ftrl_beta: 0 }",
       "training.sparse_optimizer.ftrl_beta must be positive"},
      {"dense_optimizer { warmup_steps: -1 }",
       "training.dense_optimizer.warmup_steps must not be negative"},
      {"sparse_optimizer { decay_steps: 0 }",
       "training.sparse_optimizer.decay_steps must be at least 1"},
      {"dense_optimizer { decay: EXPONENTIAL decay_rate: 0 }",
       "training.dense_optimizer.decay_rate must be in (0, 1]"},
      {"dense_optimizer { decay: EXPONENTIAL decay_rate: 1.5 }",
       "training.dense_optimizer.decay_rate must be in (0, 1]"},
  };
  for (const Case& c : cases) {
    Status s = ValidateMinimalPlus(std::string("training { ") + c.body + " }");
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << c.body;
    EXPECT_THAT(s.message(), StartsWith(c.message)) << c.body;
  }
}

TEST(ValidateJobConfigTest, RejectsANonPositiveHiddenLayerNamingItsIndex) {
  Status s = ValidateMinimalPlus("model { mlp_hidden: 64 mlp_hidden: 0 }");
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("model.mlp_hidden[1]"));
}

TEST(ValidateJobConfigTest, RejectsBadDlrmLayersNamingTheField) {
  Status s = ValidateMinimalPlus("model { kind: DLRM dlrm_bottom_mlp: [64, -1] }");
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("model.dlrm_bottom_mlp[1]"));
  s = ValidateMinimalPlus("model { kind: DLRM dlrm_top_mlp: 0 }");
  EXPECT_THAT(s.message(), HasSubstr("model.dlrm_top_mlp[0]"));
}

TEST(ValidateJobConfigTest, RejectsCrossLayersOutOfRange) {
  Status s = ValidateMinimalPlus("model { kind: DCN_V2 cross_layers: -1 }");
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("model.cross_layers"));
  EXPECT_THAT(ValidateMinimalPlus("model { cross_layers: 65 }").message(),
              HasSubstr("model.cross_layers"));
  EXPECT_TRUE(ValidateMinimalPlus("model { kind: DCN_V2 cross_layers: 0 }").ok());
}

TEST(ValidateJobConfigTest, RequiresDropoutInZeroToOne) {
  Status s = ValidateMinimalPlus("model { dropout: -0.1 }");
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("model.dropout"));
  EXPECT_THAT(ValidateMinimalPlus("model { dropout: 1 }").message(), HasSubstr("model.dropout"));
  EXPECT_THAT(ValidateMinimalPlus("model { dropout: nan }").message(), HasSubstr("model.dropout"));
  EXPECT_TRUE(ValidateMinimalPlus("model { kind: MLP dropout: 0.5 }").ok());
  EXPECT_TRUE(ValidateMinimalPlus("model { dropout: 0 }").ok());
}

// The spec of `config` over Criteo's layout (26 fields, 13 dense).
model::ModelSpec CriteoSpec(const pb::JobConfig& config) {
  return ToModelSpec(config, io::CriteoLayout());
}

TEST(ToModelSpecTest, MapsEachModelKind) {
  EXPECT_EQ(CriteoSpec(Parse("model { kind: LR }")).kind, model::ModelKind::kLogisticRegression);
  EXPECT_EQ(CriteoSpec(Parse("model { kind: FM }")).kind, model::ModelKind::kFactorizationMachine);
  EXPECT_EQ(CriteoSpec(Parse("model { kind: DEEPFM }")).kind, model::ModelKind::kDeepFM);
  EXPECT_EQ(CriteoSpec(Parse("model { kind: MLP }")).kind, model::ModelKind::kMlp);
  EXPECT_EQ(CriteoSpec(Parse("model { kind: WIDE_DEEP }")).kind, model::ModelKind::kWideDeep);
  EXPECT_EQ(CriteoSpec(Parse("model { kind: DLRM }")).kind, model::ModelKind::kDlrm);
  EXPECT_EQ(CriteoSpec(Parse("model { kind: DCN_V2 }")).kind, model::ModelKind::kDcnV2);
}

TEST(ToModelSpecTest, CopiesTheDeepModelFields) {
  model::ModelSpec spec = CriteoSpec(
      Parse("model { dlrm_bottom_mlp: [32, 8] dlrm_top_mlp: [16] cross_layers: 5 }"));
  EXPECT_THAT(spec.dlrm_bottom_mlp, ElementsAre(32, 8));
  EXPECT_THAT(spec.dlrm_top_mlp, ElementsAre(16));
  EXPECT_EQ(spec.cross_layers, 5);
}

TEST(ToModelSpecTest, EmptyDlrmLayersKeepTheReferenceDefaults) {
  model::ModelSpec spec = CriteoSpec(Parse("model { kind: DLRM }"));
  EXPECT_THAT(spec.dlrm_bottom_mlp, ElementsAre(512, 256, 64));
  EXPECT_THAT(spec.dlrm_top_mlp, ElementsAre(512, 256));
  EXPECT_EQ(spec.cross_layers, 3);
}

TEST(ToModelSpecTest, MapsEachActivation) {
  EXPECT_EQ(CriteoSpec(Parse("model { activation: RELU }")).activation,
            model::ActivationKind::kRelu);
  EXPECT_EQ(CriteoSpec(Parse("model { activation: TANH }")).activation,
            model::ActivationKind::kTanh);
  EXPECT_EQ(CriteoSpec(Parse("model { activation: SIGMOID }")).activation,
            model::ActivationKind::kSigmoid);
}

TEST(ToModelSpecTest, CopiesSizesForTheCriteoLayout) {
  model::ModelSpec spec = CriteoSpec(Parse("model { embedding_dim: 8 init_std: 0.05 }"));
  EXPECT_EQ(spec.num_fields, 26);
  EXPECT_EQ(spec.num_dense, 13);
  EXPECT_EQ(spec.embedding_dim, 8);
  EXPECT_FLOAT_EQ(spec.init_std, 0.05f);
}

TEST(ToModelSpecTest, GivenHiddenLayersReplaceTheDefault) {
  model::ModelSpec spec = CriteoSpec(Parse("model { mlp_hidden: 64 mlp_hidden: 32 }"));
  EXPECT_THAT(spec.mlp_hidden, ElementsAre(64, 32));
}

TEST(ToModelSpecTest, EmptyHiddenLayersKeepTheDefault) {
  model::ModelSpec spec = CriteoSpec(Parse(""));
  EXPECT_THAT(spec.mlp_hidden, ElementsAre(400, 400, 400));
}

TEST(ToModelSpecTest, TakesTheShapeFromTheLayout) {
  io::FeatureLayout layout;
  layout.num_fields = 3;
  layout.num_dense = 2;
  model::ModelSpec spec = ToModelSpec(Parse(""), layout);
  EXPECT_EQ(spec.num_fields, 3);
  EXPECT_EQ(spec.num_dense, 2);
  EXPECT_EQ(spec.user_fields, 1);  // neither the config nor the layout knows
}

TEST(ToModelSpecTest, UserFieldsComeFromTheConfigElseTheLayout) {
  io::FeatureLayout layout;
  layout.num_fields = 6;
  layout.user_fields = 4;
  EXPECT_EQ(ToModelSpec(Parse(""), layout).user_fields, 4);
  EXPECT_EQ(ToModelSpec(Parse("model { user_fields: 2 }"), layout).user_fields, 2);
}

// The mask's seed is the job's seed, so a rerun of a job draws the same masks.
TEST(ToModelSpecTest, CopiesDropoutAndTheSeed) {
  model::ModelSpec spec = CriteoSpec(Parse("model { dropout: 0.25 } training { seed: 9 }"));
  EXPECT_EQ(spec.dropout, 0.25f);
  EXPECT_EQ(spec.dropout_seed, 9u);
  EXPECT_EQ(CriteoSpec(Parse("")).dropout, 0.0f);
  EXPECT_EQ(CriteoSpec(Parse("")).dropout_seed, 42u);
}

TEST(ToModelSpecTest, MapsTheLossAndItsFields) {
  EXPECT_EQ(CriteoSpec(Parse("")).loss, model::LossKind::kBinaryCrossEntropy);
  model::ModelSpec spec = CriteoSpec(Parse(
      "model { loss: MSE label_offset: 3.5 min_prediction: 0.5 max_prediction: 4.5 "
      "tower_hidden: [32, 16] }"));
  EXPECT_EQ(spec.loss, model::LossKind::kSquaredError);
  EXPECT_EQ(spec.label_offset, 3.5f);
  EXPECT_EQ(spec.min_prediction, 0.5f);
  EXPECT_EQ(spec.max_prediction, 4.5f);
  EXPECT_THAT(spec.tower_hidden, ElementsAre(32, 16));
  EXPECT_THAT(CriteoSpec(Parse("")).tower_hidden, ElementsAre(64));
}

TEST(ToModelSpecTest, AnMseModelClipsToTheLayoutsLabelRangeUnlessTheConfigSetsOne) {
  io::FeatureLayout ratings;
  ratings.num_fields = 2;
  ratings.min_label = 1.0f;
  ratings.max_label = 5.0f;
  model::ModelSpec mse = ToModelSpec(Parse("model { loss: MSE }"), ratings);
  EXPECT_EQ(mse.min_prediction, 1.0f);
  EXPECT_EQ(mse.max_prediction, 5.0f);
  model::ModelSpec own =
      ToModelSpec(Parse("model { loss: MSE min_prediction: 0 max_prediction: 10 }"), ratings);
  EXPECT_EQ(own.max_prediction, 10.0f);
  model::ModelSpec bce = ToModelSpec(Parse(""), ratings);
  EXPECT_EQ(bce.max_prediction, 0.0f);
}

TEST(CreateDataFormatTest, AnMseModelReadsValueLabels) {
  StatusOr<std::unique_ptr<io::DataFormat>> bce =
      CreateDataFormat(Parse("data { format: LIBSVM }"));
  StatusOr<std::unique_ptr<io::DataFormat>> mse =
      CreateDataFormat(Parse("data { format: LIBSVM } model { loss: MSE }"));
  ASSERT_TRUE(bce.ok() && mse.ok());
  EXPECT_FALSE((*bce)->layout().value_labels);
  EXPECT_TRUE((*mse)->layout().value_labels);
}

TEST(CreateDataFormatTest, ABadCsvSchemaNamesTheField) {
  Status s =
      CreateDataFormat(Parse("data { format: CSV csv { column { role: DENSE } } }")).status();
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(s.message(), StartsWith("data.csv.column: exactly one column must be the LABEL"));
}

TEST(ToOptimizerOptionsTest, MapsEachKind) {
  using Kind = ps::OptimizerOptions::Kind;
  pb::OptimizerConfig c;
  c.set_kind(pb::SGD);
  EXPECT_EQ(ToOptimizerOptions(c).kind, Kind::kSgd);
  c.set_kind(pb::ADAGRAD);
  EXPECT_EQ(ToOptimizerOptions(c).kind, Kind::kAdagrad);
  c.set_kind(pb::ADAM);
  EXPECT_EQ(ToOptimizerOptions(c).kind, Kind::kAdam);
  c.set_kind(pb::FTRL);
  EXPECT_EQ(ToOptimizerOptions(c).kind, Kind::kFtrl);
}

TEST(ToOptimizerOptionsTest, MapsEachDecay) {
  using Decay = ps::OptimizerOptions::Decay;
  pb::OptimizerConfig c;
  EXPECT_EQ(ToOptimizerOptions(c).decay, Decay::kNone);
  c.set_decay(pb::EXPONENTIAL);
  EXPECT_EQ(ToOptimizerOptions(c).decay, Decay::kExponential);
  c.set_decay(pb::INVERSE_SQRT);
  EXPECT_EQ(ToOptimizerOptions(c).decay, Decay::kInverseSqrt);
}

TEST(ToOptimizerOptionsTest, DefaultsOfTheNewFieldsAreThoseOfTheOptimizer) {
  // An existing config (no FTRL, L1 or schedule fields) trains exactly as before.
  ps::OptimizerOptions from_config = ToOptimizerOptions(pb::OptimizerConfig());
  ps::OptimizerOptions defaults;
  EXPECT_EQ(from_config.l1, 0.0f);
  EXPECT_EQ(from_config.warmup_steps, 0);
  EXPECT_EQ(from_config.decay, ps::OptimizerOptions::Decay::kNone);
  EXPECT_EQ(from_config.ftrl_beta, defaults.ftrl_beta);
  EXPECT_EQ(from_config.decay_rate, defaults.decay_rate);
  EXPECT_EQ(from_config.decay_steps, defaults.decay_steps);
  EXPECT_EQ(ps::LearningRateAt(from_config, 12345), static_cast<double>(0.001f));
}

TEST(ToOptimizerOptionsTest, CopiesEveryHyperparameter) {
  pb::OptimizerConfig c;
  c.set_learning_rate(0.25f);
  c.set_beta1(0.5f);
  c.set_beta2(0.75f);
  c.set_epsilon(1e-6f);
  c.set_initial_accumulator(0.125f);
  c.set_l2(0.0625f);
  c.set_l1(0.03125f);
  c.set_ftrl_beta(2.5f);
  c.set_warmup_steps(100);
  c.set_decay_rate(0.875f);
  c.set_decay_steps(300);

  ps::OptimizerOptions o = ToOptimizerOptions(c);

  EXPECT_FLOAT_EQ(o.learning_rate, 0.25f);
  EXPECT_FLOAT_EQ(o.beta1, 0.5f);
  EXPECT_FLOAT_EQ(o.beta2, 0.75f);
  EXPECT_FLOAT_EQ(o.epsilon, 1e-6f);
  EXPECT_FLOAT_EQ(o.initial_accumulator, 0.125f);
  EXPECT_FLOAT_EQ(o.l2, 0.0625f);
  EXPECT_FLOAT_EQ(o.l1, 0.03125f);
  EXPECT_FLOAT_EQ(o.ftrl_beta, 2.5f);
  EXPECT_EQ(o.warmup_steps, 100);
  EXPECT_FLOAT_EQ(o.decay_rate, 0.875f);
  EXPECT_EQ(o.decay_steps, 300);
}

TEST(ValidateJobConfigTest, NamesBadCheckpointFields) {
  pb::JobConfig config;
  config.mutable_data()->add_train("train.tsv");
  config.mutable_checkpoint()->set_every_epochs(0);
  Status s = ValidateJobConfig(config);
  EXPECT_NE(s.message().find("checkpoint.every_epochs"), std::string::npos) << s.ToString();
  config.mutable_checkpoint()->set_every_epochs(1);
  config.mutable_checkpoint()->set_keep(0);
  s = ValidateJobConfig(config);
  EXPECT_NE(s.message().find("checkpoint.keep"), std::string::npos) << s.ToString();
  config.mutable_checkpoint()->set_keep(3);
  config.mutable_checkpoint()->set_full_every(0);
  s = ValidateJobConfig(config);
  EXPECT_NE(s.message().find("checkpoint.full_every"), std::string::npos) << s.ToString();
  config.mutable_checkpoint()->set_full_every(4);
  EXPECT_TRUE(ValidateJobConfig(config).ok());
}

// Every shipped example is a valid job whose model builds (its data format too, when
// the side files it names are where the example expects them, from the source tree).
TEST(ExamplesTest, EveryExampleConfigIsValid) {
  const std::string root = TESSERA_SOURCE_DIR;
  ASSERT_EQ(chdir(root.c_str()), 0);
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(root + "/examples")) {
    if (entry.path().extension() != ".pbtxt") continue;
    SCOPED_TRACE(entry.path().string());
    StatusOr<pb::JobConfig> config = LoadJobConfig(entry.path().string());
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    Status valid = ValidateJobConfig(*config);
    EXPECT_TRUE(valid.ok()) << valid.ToString();
    StatusOr<std::unique_ptr<io::DataFormat>> format = CreateDataFormat(*config);
    if (!format.ok()) {
      EXPECT_EQ(format.status().code(), Status::Code::kNotFound) << format.status().ToString();
      continue;
    }
    auto model = model::CreateModel(ToModelSpec(*config, (*format)->layout()));
    EXPECT_TRUE(model.ok()) << model.status().ToString();
    ++checked;
  }
  EXPECT_GE(checked, 8);
}

TEST(ValidateForLayoutTest, NegativeSamplingNeedsItemFields) {
  io::FeatureLayout two_fields;
  two_fields.num_fields = 2;
  two_fields.user_fields = 1;
  StatusOr<pb::JobConfig> ok = ParseJobConfig(
      "data { train: \"t\" } model { kind: TWO_TOWER } "
      "training { negative_sampling { count: 4 } }", "job");
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ValidateForLayout(*ok, two_fields).ok());
  StatusOr<pb::JobConfig> no_items = ParseJobConfig(
      "data { train: \"t\" } model { kind: LR user_fields: 2 } "
      "training { negative_sampling { count: 4 } }", "job");
  ASSERT_TRUE(no_items.ok());
  Status s = ValidateForLayout(*no_items, two_fields);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("training.negative_sampling"), std::string::npos) << s.ToString();
}

TEST(ValidateForLayoutTest, AModelThatDoesNotFitTheDataIsAConfigError) {
  io::FeatureLayout ratings;  // MovieLens-like: 2 fields, no dense features
  ratings.num_fields = 2;
  ratings.user_fields = 1;
  StatusOr<pb::JobConfig> dlrm = ParseJobConfig("data { train: \"t\" } model { kind: DLRM }", "job");
  ASSERT_TRUE(dlrm.ok());
  Status s = ValidateForLayout(*dlrm, ratings);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("num_dense"), std::string::npos) << s.ToString();
}

TEST(ValidateJobConfigTest, NegativeCountInRange) {
  StatusOr<pb::JobConfig> c = ParseJobConfig(
      "data { train: \"t\" } training { negative_sampling { count: -1 } }", "job");
  ASSERT_TRUE(c.ok());
  Status s = ValidateJobConfig(*c);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("training.negative_sampling.count"), std::string::npos);
}

}  // namespace
}  // namespace tessera::cmd
