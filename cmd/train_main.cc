// One rank of a training job: MPI bootstrap, then the scheduler, server or worker
// loop over ZeroMQ, a BYE handshake with the scheduler, and a clean MPI shutdown.
//
// Failures (DESIGN.md §7). launch/tessera-run starts mpirun with --enable-recovery, so
// that a killed worker does not end the job: the scheduler notices through heartbeats
// and gives its data to the others. Under that flag Open MPI neither ends the job when
// a rank calls MPI_Abort nor reports a failure in mpirun's exit status, so the job ends
// itself: a rank that fails tells the scheduler (FATAL), the scheduler tells every rank
// (SHUTDOWN with the reason), a rank that hears nothing from the scheduler's heartbeat
// monitor for cluster.heartbeat_timeout_ms stops, and the scheduler writes the job's
// exit status to $TESSERA_STATUS_FILE, which tessera-run reads. Under a plain mpirun
// (no --enable-recovery) MPI_Abort still ends every rank at once.
#include <cstdlib>
#include <iostream>
#include <random>

#include <gflags/gflags.h>
#include <zmq.hpp>

#include "cmd/commands.h"
#include "cmd/job_config.h"
#include "cmd/serving.h"
#include "common/clock.h"
#include "common/hash.h"
#include "io/format.h"
#include "io/model_file.h"
#include "net/cluster.h"
#include "net/heartbeat.h"
#include "net/socket.h"
#include "ps/client/ps_client.h"
#include "ps/server.h"
#include "scheduler/checkpoint.h"
#include "scheduler/scheduler.h"
#include "worker/worker.h"

DEFINE_string(config, "", "Job config, Protobuf text format (see examples/*.pbtxt). Required.");
DEFINE_int32(servers, 0,
             "train only: how many ranks after rank 0 are servers (the rest are workers). "
             "Default: half of the remaining ranks, at least 1.");
DEFINE_string(model_dir, "", "Overrides output.model_dir.");
DEFINE_int32(epochs, 0, "Overrides training.epochs.");
DEFINE_uint64(seed, 0,
              "train: overrides training.seed (0: keep the config's). split: the seed of the "
              "random split.");
DEFINE_int32(batch_size, 0, "Overrides data.batch_size.");
DEFINE_int32(timeout_ms, 0, "Overrides cluster.timeout_ms.");
DEFINE_int32(connect_timeout_ms, 0, "Overrides cluster.connect_timeout_ms.");
DEFINE_double(progress_interval_s, -1, "Overrides cluster.progress_interval_s.");
DEFINE_string(advertise_host, "",
              "Address other ranks reach this one by (default: this host name's IPv4 address).");
DEFINE_string(resume, "",
              "Resume from a checkpoint directory (holding MANIFEST), or 'latest': the newest "
              "valid checkpoint under checkpoint.dir, or 'auto': as latest, but a fresh start "
              "when there is none (what launch/tessera-run --max-restarts uses).");
DEFINE_string(init_from, "",
              "Start from the weights of a trained model (a model directory, checkpoint or "
              "export of the same model config; optimizer state and step counts start "
              "afresh): the feedback step of a recommender. At the end the job scores the "
              "new data (data.validation, else data.train) with the starting model and with "
              "the trained one and prints both.");
DEFINE_string(trace_batches, "",
              "For tests: each worker appends every batch it pushes (epoch, chunk, batch in "
              "the chunk, examples) to this path + its rank.");
DEFINE_int32(fault_unreachable_server, -1,
             "Fault injection for tests: server N advertises an endpoint nobody listens on.");

namespace tessera::cmd {
namespace {

// Whether this rank prints a config error. With roles by rank every rank reads the
// same config, so rank 0 alone speaks; in an MPMD launch each role may have its own.
bool ReportsConfigErrors(TrainRole role) {
  const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
  return role != TrainRole::kByRank || rank == nullptr || std::string(rank) == "0";
}

// Whether this process is the job's scheduler (rank 0 when roles go by rank).
bool IsSchedulerProcess(TrainRole role) {
  const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
  return role == TrainRole::kScheduler ||
         (role == TrainRole::kByRank && rank != nullptr && std::string(rank) == "0");
}

StatusOr<pb::JobConfig> LoadConfigWithFlags() {
  if (FLAGS_config.empty()) return Status::InvalidArgument("--config is required");
  ASSIGN_OR_RETURN(pb::JobConfig config, LoadJobConfig(FLAGS_config));
  if (!FLAGS_model_dir.empty()) config.mutable_output()->set_model_dir(FLAGS_model_dir);
  if (FLAGS_epochs > 0) config.mutable_training()->set_epochs(FLAGS_epochs);
  if (FLAGS_seed > 0) config.mutable_training()->set_seed(FLAGS_seed);
  if (FLAGS_batch_size > 0) config.mutable_data()->set_batch_size(FLAGS_batch_size);
  if (FLAGS_timeout_ms > 0) config.mutable_cluster()->set_timeout_ms(FLAGS_timeout_ms);
  if (FLAGS_connect_timeout_ms > 0) {
    config.mutable_cluster()->set_connect_timeout_ms(FLAGS_connect_timeout_ms);
  }
  if (FLAGS_progress_interval_s >= 0) {
    config.mutable_cluster()->set_progress_interval_s(FLAGS_progress_interval_s);
  }
  Status valid = ValidateJobConfig(config);
  if (!valid.ok()) return valid.WithContext(FLAGS_config);
  return config;
}

StatusOr<pb::Role> RoleOf(TrainRole role, int rank, int size) {
  switch (role) {
    case TrainRole::kScheduler: return pb::SCHEDULER;
    case TrainRole::kServer: return pb::SERVER;
    case TrainRole::kWorker: return pb::WORKER;
    case TrainRole::kByRank: break;
  }
  int servers = FLAGS_servers > 0 ? FLAGS_servers : std::max(1, (size - 1) / 2);
  if (size < servers + 2) {
    return Status::InvalidArgument("the job has " + std::to_string(size) +
                                   " ranks: it needs 1 scheduler, " + std::to_string(servers) +
                                   " server(s) (--servers) and at least 1 worker; start it with "
                                   "mpirun, e.g. launch/tessera-run --servers 1 --workers 1 -- "
                                   "train --config JOB.pbtxt");
  }
  if (rank == 0) return pb::SCHEDULER;
  return rank <= servers ? pb::SERVER : pb::WORKER;
}

// Connects a Dealer from this rank to `peer_rank`'s Router.
StatusOr<std::unique_ptr<net::Dealer>> ConnectTo(zmq::context_t* context,
                                                 const net::NodeTable& nodes, int my_rank,
                                                 int peer_rank, int send_timeout_ms) {
  return net::Dealer::Connect(context, nodes.node(peer_rank).endpoint(),
                              "r" + std::to_string(my_rank), nodes.Describe(peer_rank),
                              send_timeout_ms);
}

Status SayHello(net::Dealer* scheduler, int rank) {
  net::Message hello;
  hello.header.set_kind(pb::HELLO);
  hello.header.set_sender(rank);
  return scheduler->Send(std::move(hello));
}

// The last word to the scheduler, which exits once every live rank said it.
Status SayBye(net::Dealer* scheduler, int rank) {
  net::Message bye;
  bye.header.set_kind(pb::BYE);
  bye.header.set_sender(rank);
  return scheduler->Send(std::move(bye));
}

// Tells the scheduler this rank failed and why, so it stops the job at once (best
// effort: the scheduler may be what failed).
void ReportFatal(net::Dealer* scheduler, int rank, const Status& why) {
  net::Message fatal;
  fatal.header.set_kind(pb::FATAL);
  fatal.header.set_sender(rank);
  fatal.header.set_error(why.ToString());
  scheduler->SetSendTimeout(1000);
  (void)scheduler->Send(std::move(fatal));
}

// The job's exit status, for launch/tessera-run (mpirun's own is 0 whatever happens
// under --enable-recovery). Written by the scheduler, atomically; no file means the
// scheduler never got to write it (killed), which the launcher counts as a failure.
void WriteJobStatus(int code) {
  const char* path = std::getenv("TESSERA_STATUS_FILE");
  if (path == nullptr || *path == '\0') return;
  const std::string tmp = std::string(path) + ".tmp";
  if (FILE* f = std::fopen(tmp.c_str(), "w")) {
    std::fprintf(f, "%d\n", code);
    std::fclose(f);
    std::rename(tmp.c_str(), path);
  }
}

// HELLO to the scheduler, then wait for its WELCOME (sent once every rank is in).
StatusOr<pb::Welcome> JoinJob(net::Dealer* scheduler, int rank, int timeout_ms) {
  RETURN_IF_ERROR(SayHello(scheduler, rank));
  net::Message reply;
  RETURN_IF_ERROR(scheduler->ReceiveOrTimeout(&reply, timeout_ms, "HELLO"));
  if (reply.header.kind() != pb::WELCOME) {
    return Status::Corruption("expected WELCOME, got " + pb::MessageKind_Name(reply.header.kind()));
  }
  pb::Welcome welcome;
  RETURN_IF_ERROR(net::ParseBody(reply, 0, &welcome));
  return welcome;
}

// The checkpoint --resume names, verified: a directory, or "latest" under
// checkpoint.dir (the newest that verifies; newer broken ones are reported, skipped).
// "auto" is "latest", or "" (a fresh start) when there is none.
StatusOr<std::string> ResolveResume(const pb::JobConfig& config, bool report) {
  if (FLAGS_resume != "latest" && FLAGS_resume != "auto") {
    RETURN_IF_ERROR(scheduler::VerifyCheckpoint(FLAGS_resume));
    return FLAGS_resume;
  }
  const bool fresh_if_none = FLAGS_resume == "auto";
  const std::string root = config.checkpoint().dir();
  if (root.empty()) {
    if (fresh_if_none) return std::string();
    return Status::InvalidArgument("--resume latest needs checkpoint.dir");
  }
  std::vector<std::string> skipped;
  StatusOr<std::string> dir = scheduler::LatestGoodCheckpoint(root, &skipped);
  for (const std::string& s : skipped) {
    if (report) std::cerr << "tessera: skipping checkpoint " << s << std::endl;
  }
  if (!dir.ok() && fresh_if_none) {
    if (report) std::cerr << "tessera: no checkpoint under " << root << ": a fresh start" << std::endl;
    return std::string();
  }
  return dir;
}

struct RankContext {
  pb::JobConfig config;
  int rank = 0;
  zmq::context_t* zmq = nullptr;
  net::Router* router = nullptr;  // scheduler and servers
  const net::NodeTable* nodes = nullptr;
  net::MpiRuntime* mpi = nullptr;
  std::string resume_dir;  // empty: a fresh start
  int start_epoch = 0;
  int64_t start_step = 0;  // resuming inside epoch start_epoch + 1, after this step
  std::vector<pb::WorkerCursor> start_cursors;
  int64_t start_global_step = 0;
  const io::DataFormat* format = nullptr;  // the data's format; outlives the rank's loops
  const net::HeartbeatMonitor* heartbeats = nullptr;  // scheduler only
  int* ranks_lost = nullptr;  // out: ranks the job lost, as this rank learnt at the end
};

// --init_from: the new data scored by the starting model and by the trained one, through
// the same serving path as `tessera predict` (after the job, so that start-up is not
// delayed; the other ranks have said BYE and exited by then).
Status ReportBeforeAndAfter(const pb::JobConfig& config) {
  std::vector<std::string> files;
  if (config.data().has_validation()) {
    files.push_back(config.data().validation());
  } else {
    files.assign(config.data().train().begin(), config.data().train().end());
  }
  const bool values = config.model().loss() == pb::MSE;
  std::string line = "On the new data (" + files.front() + (files.size() > 1 ? ", ..." : "") + "):";
  for (const std::string& dir : {FLAGS_init_from, config.output().model_dir()}) {
    ASSIGN_OR_RETURN(ServingModel serving, LoadServingModel(dir));
    model::MetricsAccumulator metrics;
    ASSIGN_OR_RETURN(int64_t bad_lines, ScoreFiles(serving, files, 4096, &metrics, nullptr));
    (void)bad_lines;  // reported by the training run already
    line += std::string(dir == FLAGS_init_from ? "\n  before (" : "\n  after  (") + dir +
            "): " + metrics.Describe(values);
  }
  std::cout << line << std::endl;
  return Status::OK();
}

Status RunScheduler(const RankContext& c, const model::Model& model) {
  // A send to a connected server never waits (unbounded queues); one waits only for a
  // server that is gone, which the heartbeats declare after heartbeat_timeout_ms.
  std::vector<std::unique_ptr<net::Dealer>> servers;
  for (int r : c.nodes->server_ranks()) {
    ASSIGN_OR_RETURN(auto d, ConnectTo(c.zmq, *c.nodes, c.rank, r,
                                       c.config.cluster().heartbeat_timeout_ms()));
    servers.push_back(std::move(d));
  }
  scheduler::SchedulerOptions options;
  options.config = c.config;
  options.dense_size = model.dense_size();
  options.sparse_dim = model.sparse_dim();
  options.job_id = std::to_string(std::random_device{}());
  options.start_epoch = c.start_epoch;
  options.start_step = c.start_step;
  options.start_cursors = c.start_cursors;
  options.resume_dir = c.resume_dir;
  options.start_global_step = c.start_global_step;
  options.value_predictions = c.config.model().loss() == pb::MSE;
  options.heartbeats = c.heartbeats;
  scheduler::Scheduler s(std::move(options), c.router, std::move(servers), c.nodes, &std::cout,
                         &std::cerr);
  RETURN_IF_ERROR(s.Run());
  *c.ranks_lost = s.workers_lost();
  if (!FLAGS_init_from.empty()) RETURN_IF_ERROR(ReportBeforeAndAfter(c.config));
  return Status::OK();
}

Status RunServer(const RankContext& c, const model::Model& model) {
  const pb::ClusterConfig& cluster = c.config.cluster();
  ASSIGN_OR_RETURN(auto scheduler, ConnectTo(c.zmq, *c.nodes, c.rank, c.nodes->scheduler_rank(),
                                             cluster.connect_timeout_ms()));
  ps::ServerOptions options;
  options.server_index = c.nodes->node(c.rank).role_index();
  options.num_servers = static_cast<int>(c.nodes->server_ranks().size());
  options.sparse = ToSparseTableOptions(c.config, model);
  options.dense_size = model.dense_size();
  options.dense_block_floats = cluster.dense_block_floats();
  options.initial_dense = model.InitialDense(c.config.training().seed());
  options.dense_optimizer = ToOptimizerOptions(c.config.training().dense_optimizer());
  options.timeout_ms = cluster.timeout_ms();
  options.slot_bits = cluster.slot_bits();
  options.threads = cluster.server_threads();
  options.full_every = c.config.checkpoint().full_every();
  ps::Server server(std::move(options), c.router, c.nodes, scheduler.get());
  Status s;
  if (!c.resume_dir.empty()) {
    s = server.LoadCheckpoint(c.resume_dir);
  } else if (!FLAGS_init_from.empty()) {
    s = server.LoadCheckpoint(FLAGS_init_from, /*weights_only=*/true);
  }
  // No wait for the WELCOME: workers check they reach this server (PING) before they
  // say HELLO, so the server must already be serving.
  if (s.ok()) s = SayHello(scheduler.get(), c.rank);
  if (s.ok()) s = server.Run();
  if (!s.ok()) {
    ReportFatal(scheduler.get(), c.rank, s);
    return s;
  }
  *c.ranks_lost = server.ranks_lost();
  return SayBye(scheduler.get(), c.rank);
}

Status RunWorker(const RankContext& c, model::Model* model) {
  const pb::ClusterConfig& cluster = c.config.cluster();
  ASSIGN_OR_RETURN(auto scheduler, ConnectTo(c.zmq, *c.nodes, c.rank, c.nodes->scheduler_rank(),
                                             cluster.connect_timeout_ms()));
  std::vector<std::unique_ptr<net::Dealer>> servers;
  for (int r : c.nodes->server_ranks()) {
    ASSIGN_OR_RETURN(auto d, ConnectTo(c.zmq, *c.nodes, c.rank, r, cluster.timeout_ms()));
    servers.push_back(std::move(d));
  }
  ps::PsClientOptions options;
  options.rank = c.rank;
  options.slot_bits = cluster.slot_bits();
  options.slot_to_server =
      ps::RoundRobinSlotTable(cluster.slot_bits(), static_cast<int>(servers.size()));
  options.sparse_dim = model->sparse_dim();
  options.dense_size = model->dense_size();
  options.dense_block_floats = cluster.dense_block_floats();
  options.timeout_ms = cluster.timeout_ms();
  ps::PsClient client(std::move(options), std::move(servers));
  // Half the start-up deadline: an unreachable server is then reported by the worker
  // that cannot reach it, before the scheduler gives up waiting for that worker's HELLO.
  RETURN_IF_ERROR(client.Ping(cluster.connect_timeout_ms() / 2));
  ASSIGN_OR_RETURN(pb::Welcome welcome,
                   JoinJob(scheduler.get(), c.rank, cluster.connect_timeout_ms()));
  worker::WorkerOptions wo;
  wo.rank = c.rank;
  wo.batch_size = c.config.data().batch_size();
  wo.max_bad_line_ratio = c.config.data().max_bad_line_ratio();
  wo.timeout_ms = cluster.timeout_ms();
  const pb::NegativeSampling& negatives = c.config.training().negative_sampling();
  wo.negatives.count = negatives.count();
  wo.negatives.kind = negatives.kind() == pb::NegativeSampling::POPULARITY
                          ? worker::NegativeSamplingOptions::Kind::kPopularity
                          : worker::NegativeSamplingOptions::Kind::kUniform;
  wo.negatives.user_fields = ToModelSpec(c.config, c.format->layout()).user_fields;
  wo.negatives.seed = c.config.training().seed() ^ static_cast<uint64_t>(c.rank);
  if (!FLAGS_trace_batches.empty()) wo.trace_path = FLAGS_trace_batches + std::to_string(c.rank);
  worker::Worker w(wo, model, &client, scheduler.get(),
                   [format = c.format] { return format->NewParser(); });
  if (welcome.start_step() > 0) w.ResumeAt(welcome.start_step(), welcome.cursor());
  Status s = w.Run(welcome.start_epoch());
  if (!s.ok()) {
    ReportFatal(scheduler.get(), c.rank, s);
    return s;
  }
  *c.ranks_lost = w.ranks_lost();
  return SayBye(scheduler.get(), c.rank);
}

Status RunRank(const pb::JobConfig& config, const io::DataFormat& format, TrainRole requested,
               net::MpiRuntime* mpi, std::string* who, int* ranks_lost) {
  const int rank = mpi->rank();
  ASSIGN_OR_RETURN(pb::Role role, RoleOf(requested, rank, mpi->size()));
  *who = std::string(net::RoleName(role)) + " (rank " + std::to_string(rank) + ")";
  model::ModelSpec spec = ToModelSpec(config, format.layout());
  // Each worker draws its own dropout masks (the same seed would drop the same units of
  // the same batch row on every worker). Only workers train; the seed is theirs.
  spec.dropout_seed = Mix64(spec.dropout_seed ^ (0x776f726b6572ULL + static_cast<uint64_t>(rank)));
  ASSIGN_OR_RETURN(std::unique_ptr<model::Model> model, model::CreateModel(spec));
  zmq::context_t context(1);
  const std::string host =
      FLAGS_advertise_host.empty() ? net::DefaultAdvertisedHost() : FLAGS_advertise_host;
  std::unique_ptr<net::Router> router;
  std::unique_ptr<net::HeartbeatMonitor> monitor;
  pb::NodeInfo mine;
  mine.set_role(role);
  mine.set_rank(rank);
  mine.set_host(host);
  if (role != pb::WORKER) {
    ASSIGN_OR_RETURN(router, net::Router::Bind(&context, host, config.cluster().timeout_ms()));
    mine.set_endpoint(router->endpoint());
  }
  if (role == pb::SCHEDULER) {
    ASSIGN_OR_RETURN(monitor, net::HeartbeatMonitor::Start(&context, host, mpi->size()));
    mine.set_heartbeat_endpoint(monitor->endpoint());
  }
  ASSIGN_OR_RETURN(std::vector<pb::NodeInfo> infos, mpi->AllGather(mine));
  if (FLAGS_fault_unreachable_server >= 0) {
    int n = 0;
    for (auto& info : infos) {
      if (info.role() == pb::SERVER && n++ == FLAGS_fault_unreachable_server) {
        info.set_endpoint("tcp://127.0.0.1:1");
      }
    }
  }
  ASSIGN_OR_RETURN(net::NodeTable nodes, net::NodeTable::Build(std::move(infos)));
  *who = nodes.Describe(rank);
  std::unique_ptr<net::HeartbeatSender> heartbeat;
  if (role != pb::SCHEDULER) {
    const pb::ClusterConfig& cluster = config.cluster();
    const std::string scheduler = nodes.Describe(nodes.scheduler_rank());
    ASSIGN_OR_RETURN(
        heartbeat,
        net::HeartbeatSender::Start(
            &context, nodes.node(nodes.scheduler_rank()).heartbeat_endpoint(), rank,
            cluster.heartbeat_interval_ms(), cluster.heartbeat_timeout_ms(),
            [who = *who, scheduler, mpi](int64_t silent_ms) {
              std::cerr << "tessera: " << who << ": " << scheduler
                        << " has not answered a heartbeat for " << silent_ms / 1000.0
                        << " s (cluster.heartbeat_timeout_ms): it is gone; stopping" << std::endl;
              mpi->Abort(1);
            }));
  }
  RankContext c{config, rank, &context, router.get(), &nodes, mpi, "", 0, 0, {}, 0};
  c.heartbeats = monitor.get();
  c.ranks_lost = ranks_lost;
  c.format = &format;
  if (!FLAGS_resume.empty() && !FLAGS_init_from.empty()) {
    return Status::InvalidArgument("--resume and --init_from exclude each other: resume continues "
                                   "a job, init_from starts a new one from a trained model");
  }
  if (!FLAGS_resume.empty()) {
    ASSIGN_OR_RETURN(c.resume_dir, ResolveResume(config, role == pb::SCHEDULER));
  }
  if (!c.resume_dir.empty()) {
    ASSIGN_OR_RETURN(pb::ModelManifest manifest, io::ReadManifest(c.resume_dir));
    c.start_epoch = manifest.epochs_done();
    c.start_step = manifest.step_in_epoch();
    c.start_global_step = manifest.global_step();
    c.start_cursors.assign(manifest.cursors().begin(), manifest.cursors().end());
    const int workers = static_cast<int>(nodes.worker_ranks().size());
    if (c.start_step > 0 && manifest.num_workers() != workers) {
      return Status::InvalidArgument(
          c.resume_dir + " was taken inside an epoch by " +
          std::to_string(manifest.num_workers()) + " worker(s), and its data cursors (each "
          "worker's place in its stripe of chunks) only fit that many; this job has " +
          std::to_string(workers) + ". Resume it on " + std::to_string(manifest.num_workers()) +
          " worker(s), or resume an end-of-epoch checkpoint (epoch-NNNN) on any number");
    }
    if (c.start_epoch >= config.training().epochs()) {
      return Status::InvalidArgument(c.resume_dir + " already holds " +
                                     std::to_string(c.start_epoch) + " epoch(s); raise "
                                     "training.epochs (or --epochs) to train further");
    }
    if (role == pb::SCHEDULER) {
      std::cerr << "resuming from " << c.resume_dir << " (epoch " << c.start_epoch;
      if (c.start_step > 0) std::cerr << ", step " << c.start_step << " of epoch " << c.start_epoch + 1;
      std::cerr << ")" << std::endl;
    }
  }
  switch (role) {
    case pb::SCHEDULER: return RunScheduler(c, *model);
    case pb::SERVER: return RunServer(c, *model);
    default: return RunWorker(c, model.get());
  }
}

}  // namespace

int RunTrain(TrainRole role) {
  StatusOr<pb::JobConfig> config = LoadConfigWithFlags();
  // Every rank needs the data format's layout (the model's shape); its errors (a bad
  // CSV schema, a side file's bad line) are config errors.
  StatusOr<std::unique_ptr<io::DataFormat>> format =
      config.ok() ? CreateDataFormat(*config)
                  : StatusOr<std::unique_ptr<io::DataFormat>>(config.status());
  if (format.ok()) {
    // The model over this data, and sampling's need for item fields: config errors too.
    Status fits = ValidateForLayout(*config, (*format)->layout());
    if (!fits.ok()) format = fits;
  }
  if (!format.ok()) {
    if (ReportsConfigErrors(role)) {
      const Status why = config.ok() ? format.status().WithContext(FLAGS_config) : config.status();
      const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
      std::cerr << "tessera" << (rank ? std::string(" (rank ") + rank + ")" : std::string()) << ": "
                << why.ToString() << std::endl;
    }
    if (IsSchedulerProcess(role)) WriteJobStatus(2);
    return 2;
  }
  StatusOr<std::unique_ptr<net::MpiRuntime>> mpi = net::MpiRuntime::Init(nullptr, nullptr);
  if (!mpi.ok()) {
    std::cerr << "tessera: " << mpi.status().ToString() << std::endl;
    return 1;
  }
  std::string who = "rank " + std::to_string((*mpi)->rank());
  int ranks_lost = 0;
  Status s = RunRank(*config, **format, role, mpi->get(), &who, &ranks_lost);
  if (IsSchedulerProcess(role)) WriteJobStatus(s.ok() ? 0 : 1);
  if (!s.ok()) {
    std::cerr << "tessera: " << who << ": " << s.ToString() << std::endl;
    (*mpi)->Abort(1);
  }
  if (ranks_lost > 0) {
    // MPI_Finalize's closing fence can wait forever for a dead rank (Open MPI 4.1.4,
    // seen about one run in eight). The job is complete and the BYE handshake is done;
    // under --enable-recovery mpirun does not mind a rank that skips it.
    std::cout.flush();
    std::cerr.flush();
    std::_Exit(0);
  }
  (*mpi)->Finalize();
  return 0;
}

}  // namespace tessera::cmd
