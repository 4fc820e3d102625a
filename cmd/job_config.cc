#include "cmd/job_config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

namespace tessera::cmd {
namespace {

// More slot-owning threads than this only adds handoffs: a server's cores are fewer.
constexpr int kMaxServerThreads = 64;

class CollectErrors : public google::protobuf::io::ErrorCollector {
 public:
  explicit CollectErrors(std::string source) : source_(std::move(source)) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!first_.empty()) return;
    first_ = source_ + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " +
             message;
  }
  const std::string& first() const { return first_; }

 private:
  std::string source_;
  std::string first_;
};

// Every entry of the repeated layer-size field `name` is positive.
Status CheckLayerSizes(const google::protobuf::RepeatedField<int32_t>& sizes,
                       const std::string& name) {
  for (int i = 0; i < sizes.size(); ++i) {
    if (sizes[i] < 1) {
      return Status::InvalidArgument("model." + name + "[" + std::to_string(i) +
                                     "] must be at least 1, got " + std::to_string(sizes[i]));
    }
  }
  return Status::OK();
}

// The fields of L1, FTRL and the learning-rate schedule.
Status CheckRegularisationAndSchedule(const pb::OptimizerConfig& o, const std::string& field) {
  if (!(o.l1() >= 0)) {
    return Status::InvalidArgument(field + ".l1 must not be negative, got " +
                                   std::to_string(o.l1()));
  }
  if (!(o.ftrl_beta() > 0)) {
    return Status::InvalidArgument(field + ".ftrl_beta must be positive, got " +
                                   std::to_string(o.ftrl_beta()));
  }
  if (o.warmup_steps() < 0) {
    return Status::InvalidArgument(field + ".warmup_steps must not be negative, got " +
                                   std::to_string(o.warmup_steps()));
  }
  if (o.decay_steps() < 1) {
    return Status::InvalidArgument(field + ".decay_steps must be at least 1, got " +
                                   std::to_string(o.decay_steps()));
  }
  if (!(o.decay_rate() > 0 && o.decay_rate() <= 1)) {
    return Status::InvalidArgument(field + ".decay_rate must be in (0, 1], got " +
                                   std::to_string(o.decay_rate()));
  }
  return Status::OK();
}

Status CheckOptimizer(const pb::OptimizerConfig& o, const std::string& field) {
  if (!(o.learning_rate() > 0)) {
    return Status::InvalidArgument(field + ".learning_rate must be positive, got " +
                                   std::to_string(o.learning_rate()));
  }
  if (o.beta1() < 0 || o.beta1() >= 1) {
    return Status::InvalidArgument(field + ".beta1 must be in [0, 1)");
  }
  if (o.beta2() < 0 || o.beta2() >= 1) {
    return Status::InvalidArgument(field + ".beta2 must be in [0, 1)");
  }
  if (!(o.epsilon() > 0)) return Status::InvalidArgument(field + ".epsilon must be positive");
  if (o.l2() < 0) return Status::InvalidArgument(field + ".l2 must not be negative");
  if (o.initial_accumulator() < 0) {
    return Status::InvalidArgument(field + ".initial_accumulator must not be negative");
  }
  return CheckRegularisationAndSchedule(o, field);
}

}  // namespace

StatusOr<pb::JobConfig> ParseJobConfig(const std::string& text, const std::string& source) {
  pb::JobConfig config;
  google::protobuf::TextFormat::Parser parser;
  CollectErrors errors(source);
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &config)) {
    return Status::InvalidArgument(errors.first().empty() ? source + ": cannot parse the job config"
                                                          : errors.first());
  }
  return config;
}

StatusOr<pb::JobConfig> LoadJobConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot open the job config " + path);
  std::stringstream text;
  text << in.rdbuf();
  return ParseJobConfig(text.str(), path);
}

Status ValidateJobConfig(const pb::JobConfig& config) {
  const pb::DataConfig& data = config.data();
  if (data.train_size() == 0) {
    return Status::InvalidArgument("data.train: name at least one training file");
  }
  if (data.batch_size() < 1) return Status::InvalidArgument("data.batch_size must be at least 1");
  if (data.chunk_bytes() < 1024) {
    return Status::InvalidArgument("data.chunk_bytes must be at least 1024");
  }
  if (data.max_bad_line_ratio() < 0 || data.max_bad_line_ratio() > 1) {
    return Status::InvalidArgument("data.max_bad_line_ratio must be in [0, 1]");
  }
  const pb::ModelConfig& model = config.model();
  if (model.embedding_dim() < 1 || model.embedding_dim() > 1024) {
    return Status::InvalidArgument("model.embedding_dim must be in [1, 1024], got " +
                                   std::to_string(model.embedding_dim()));
  }
  RETURN_IF_ERROR(CheckLayerSizes(model.mlp_hidden(), "mlp_hidden"));
  RETURN_IF_ERROR(CheckLayerSizes(model.dlrm_bottom_mlp(), "dlrm_bottom_mlp"));
  RETURN_IF_ERROR(CheckLayerSizes(model.dlrm_top_mlp(), "dlrm_top_mlp"));
  if (model.cross_layers() < 0 || model.cross_layers() > 64) {
    return Status::InvalidArgument("model.cross_layers must be in [0, 64], got " +
                                   std::to_string(model.cross_layers()));
  }
  if (!(model.init_std() >= 0)) return Status::InvalidArgument("model.init_std must be >= 0");
  if (!(model.dropout() >= 0 && model.dropout() < 1)) {
    return Status::InvalidArgument("model.dropout must be in [0, 1), got " +
                                   std::to_string(model.dropout()));
  }
  const pb::TrainingConfig& training = config.training();
  if (training.epochs() < 1) {
    return Status::InvalidArgument("training.epochs must be at least 1, got " +
                                   std::to_string(training.epochs()));
  }
  const int negatives = training.negative_sampling().count();
  if (negatives < 0 || negatives > 1000) {
    return Status::InvalidArgument("training.negative_sampling.count must be in [0, 1000], got " +
                                   std::to_string(negatives));
  }
  RETURN_IF_ERROR(CheckOptimizer(training.sparse_optimizer(), "training.sparse_optimizer"));
  RETURN_IF_ERROR(CheckOptimizer(training.dense_optimizer(), "training.dense_optimizer"));
  const pb::ClusterConfig& cluster = config.cluster();
  if (cluster.timeout_ms() < 100) {
    return Status::InvalidArgument("cluster.timeout_ms must be at least 100");
  }
  if (cluster.connect_timeout_ms() < 100) {
    return Status::InvalidArgument("cluster.connect_timeout_ms must be at least 100");
  }
  if (cluster.heartbeat_interval_ms() < 10) {
    return Status::InvalidArgument("cluster.heartbeat_interval_ms must be at least 10");
  }
  if (cluster.heartbeat_timeout_ms() < 3 * cluster.heartbeat_interval_ms()) {
    return Status::InvalidArgument(
        "cluster.heartbeat_timeout_ms must be at least 3 x cluster.heartbeat_interval_ms (" +
        std::to_string(3 * cluster.heartbeat_interval_ms()) + ")");
  }
  if (cluster.heartbeat_timeout_ms() >= cluster.timeout_ms()) {
    return Status::InvalidArgument(
        "cluster.heartbeat_timeout_ms (" + std::to_string(cluster.heartbeat_timeout_ms()) +
        ") must be below cluster.timeout_ms (" + std::to_string(cluster.timeout_ms()) +
        "): a lost worker must be declared before the servers give up waiting for it");
  }
  if (cluster.slot_bits() < 1 || cluster.slot_bits() > 24) {
    return Status::InvalidArgument("cluster.slot_bits must be in [1, 24]");
  }
  if (cluster.server_threads() < 1 || cluster.server_threads() > kMaxServerThreads) {
    return Status::InvalidArgument("cluster.server_threads must be in [1, " +
                                   std::to_string(kMaxServerThreads) + "], got " +
                                   std::to_string(cluster.server_threads()));
  }
  if (cluster.dense_block_floats() < 1) {
    return Status::InvalidArgument("cluster.dense_block_floats must be at least 1");
  }
  const pb::CheckpointConfig& checkpoint = config.checkpoint();
  if (checkpoint.every_epochs() < 1) {
    return Status::InvalidArgument("checkpoint.every_epochs must be at least 1, got " +
                                   std::to_string(checkpoint.every_epochs()));
  }
  if (checkpoint.keep() < 1) {
    return Status::InvalidArgument("checkpoint.keep must be at least 1, got " +
                                   std::to_string(checkpoint.keep()));
  }
  if (checkpoint.every_steps() < 0) {
    return Status::InvalidArgument("checkpoint.every_steps must be >= 0 (0: none), got " +
                                   std::to_string(checkpoint.every_steps()));
  }
  if (!(checkpoint.every_seconds() >= 0) || checkpoint.every_seconds() > 1e9) {
    return Status::InvalidArgument("checkpoint.every_seconds must be >= 0 (0: none), got " +
                                   std::to_string(checkpoint.every_seconds()));
  }
  if (checkpoint.full_every() < 1) {
    return Status::InvalidArgument(
        "checkpoint.full_every must be at least 1 (1: every checkpoint is full), got " +
        std::to_string(checkpoint.full_every()));
  }
  if (config.output().model_dir().empty()) {
    return Status::InvalidArgument("output.model_dir must not be empty");
  }
  return Status::OK();
}

StatusOr<std::unique_ptr<io::DataFormat>> CreateDataFormat(const pb::JobConfig& config) {
  return io::DataFormat::Create(config.data(), config.model().loss() == pb::MSE
                                                   ? io::LabelKind::kValue
                                                   : io::LabelKind::kBinary);
}

model::ModelSpec ToModelSpec(const pb::JobConfig& config, const io::FeatureLayout& layout) {
  const pb::ModelConfig& m = config.model();
  model::ModelSpec spec;
  switch (m.kind()) {
    case pb::LR: spec.kind = model::ModelKind::kLogisticRegression; break;
    case pb::FM: spec.kind = model::ModelKind::kFactorizationMachine; break;
    case pb::DEEPFM: spec.kind = model::ModelKind::kDeepFM; break;
    case pb::MLP: spec.kind = model::ModelKind::kMlp; break;
    case pb::WIDE_DEEP: spec.kind = model::ModelKind::kWideDeep; break;
    case pb::DLRM: spec.kind = model::ModelKind::kDlrm; break;
    case pb::DCN_V2: spec.kind = model::ModelKind::kDcnV2; break;
    case pb::MF: spec.kind = model::ModelKind::kMf; break;
    case pb::TWO_TOWER: spec.kind = model::ModelKind::kTwoTower; break;
  }
  spec.num_fields = layout.num_fields;
  spec.num_dense = layout.num_dense;
  spec.user_fields = m.user_fields() > 0 ? m.user_fields() : std::max(1, layout.user_fields);
  spec.embedding_dim = m.embedding_dim();
  if (m.mlp_hidden_size() > 0) spec.mlp_hidden.assign(m.mlp_hidden().begin(), m.mlp_hidden().end());
  if (m.dlrm_bottom_mlp_size() > 0) {
    spec.dlrm_bottom_mlp.assign(m.dlrm_bottom_mlp().begin(), m.dlrm_bottom_mlp().end());
  }
  if (m.dlrm_top_mlp_size() > 0) {
    spec.dlrm_top_mlp.assign(m.dlrm_top_mlp().begin(), m.dlrm_top_mlp().end());
  }
  spec.cross_layers = m.cross_layers();
  switch (m.activation()) {
    case pb::RELU: spec.activation = model::ActivationKind::kRelu; break;
    case pb::TANH: spec.activation = model::ActivationKind::kTanh; break;
    case pb::SIGMOID: spec.activation = model::ActivationKind::kSigmoid; break;
  }
  spec.init_std = m.init_std();
  spec.loss = m.loss() == pb::MSE ? model::LossKind::kSquaredError
                                  : model::LossKind::kBinaryCrossEntropy;
  spec.label_offset = m.label_offset();
  spec.min_prediction = m.min_prediction();
  spec.max_prediction = m.max_prediction();
  const bool no_range = m.min_prediction() == 0 && m.max_prediction() == 0;
  if (no_range && m.loss() == pb::MSE && layout.min_label < layout.max_label) {
    spec.min_prediction = layout.min_label;
    spec.max_prediction = layout.max_label;
  }
  if (m.tower_hidden_size() > 0) {
    spec.tower_hidden.assign(m.tower_hidden().begin(), m.tower_hidden().end());
  }
  spec.dropout = m.dropout();
  spec.dropout_seed = config.training().seed();
  return spec;
}

Status ValidateForLayout(const pb::JobConfig& config, const io::FeatureLayout& layout) {
  const model::ModelSpec spec = ToModelSpec(config, layout);
  RETURN_IF_ERROR(model::ValidateModelSpec(spec));
  const int negatives = config.training().negative_sampling().count();
  if (negatives > 0 && spec.user_fields >= layout.num_fields) {
    return Status::InvalidArgument(
        "training.negative_sampling: the data has " + std::to_string(layout.num_fields) +
        " field(s) and the first " + std::to_string(spec.user_fields) +
        " are the user's (model.user_fields): no item fields to sample");
  }
  return Status::OK();
}

ps::OptimizerOptions ToOptimizerOptions(const pb::OptimizerConfig& c) {
  ps::OptimizerOptions o;
  switch (c.kind()) {
    case pb::SGD: o.kind = ps::OptimizerOptions::Kind::kSgd; break;
    case pb::ADAGRAD: o.kind = ps::OptimizerOptions::Kind::kAdagrad; break;
    case pb::ADAM: o.kind = ps::OptimizerOptions::Kind::kAdam; break;
    case pb::FTRL: o.kind = ps::OptimizerOptions::Kind::kFtrl; break;
  }
  o.learning_rate = c.learning_rate();
  o.beta1 = c.beta1();
  o.beta2 = c.beta2();
  o.epsilon = c.epsilon();
  o.initial_accumulator = c.initial_accumulator();
  o.l2 = c.l2();
  o.l1 = c.l1();
  o.ftrl_beta = c.ftrl_beta();
  o.warmup_steps = c.warmup_steps();
  switch (c.decay()) {
    case pb::NO_DECAY: o.decay = ps::OptimizerOptions::Decay::kNone; break;
    case pb::EXPONENTIAL: o.decay = ps::OptimizerOptions::Decay::kExponential; break;
    case pb::INVERSE_SQRT: o.decay = ps::OptimizerOptions::Decay::kInverseSqrt; break;
  }
  o.decay_rate = c.decay_rate();
  o.decay_steps = c.decay_steps();
  return o;
}

ps::SparseTableOptions ToSparseTableOptions(const pb::JobConfig& config,
                                            const model::Model& model) {
  ps::SparseTableOptions o;
  o.table_id = 0;
  o.dim = model.sparse_dim();
  o.optimizer = ToOptimizerOptions(config.training().sparse_optimizer());
  o.seed = config.training().seed();
  for (const model::ColumnInit& c : model.sparse_init()) {
    ps::ColumnInit init;
    init.begin = c.begin;
    init.end = c.end;
    init.kind = c.kind == model::ColumnInit::Kind::kZero ? ps::ColumnInit::Kind::kZero
                                                         : ps::ColumnInit::Kind::kNormal;
    init.scale = c.scale;
    o.init.push_back(init);
  }
  return o;
}

}  // namespace tessera::cmd
