// Killed ranks, through real mpirun (launch/tessera-run: --enable-recovery) and real
// SIGKILL. A killed worker: the scheduler notices its silence, the others train its
// data, and the job completes with every training example trained once (checked from
// the workers' own batch traces, not only the job's counts). A killed server: the job
// ends at once with no rank left behind, and --max-restarts resumes it from the newest
// checkpoint (inside an epoch) to the uninterrupted run's model, bit for bit.
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace tessera::testing {
namespace {

constexpr int kTrainLines = 60000;

class FailureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new std::string(MakeTempDir("faildata"));
    CommandResult gen = RunCommand(TesseraBin() + " gen-data --out " + *data_ +
                                   " --train_lines " + std::to_string(kTrainLines) +
                                   " --validation_lines 5000 --data_seed 5");
    ASSERT_EQ(gen.exit_code, 0) << gen.output;
    // The uninterrupted run every recovered run must reproduce.
    CommandResult straight = RunCommand(TesseraRun() + " --servers 2 --workers 2 -- train --config " +
                                        WriteConfig(*data_, *data_ + "/straight-ckpt") +
                                        " --model_dir " + *data_ + "/straight");
    ASSERT_EQ(straight.exit_code, 0) << straight.output;
  }
  static void TearDownTestSuite() {
    RunCommand("rm -rf " + *data_);
    delete data_;
  }
  void SetUp() override { dir_ = MakeTempDir("fail"); }
  void TearDown() override { RunCommand("rm -rf " + dir_); }

  // Small batches, so the job runs for a while; a checkpoint every 15 steps; a rank
  // silent for 4 s is lost. `train` lists the training files (default: train.tsv).
  static std::string WriteConfig(const std::string& dir, const std::string& checkpoints,
                                 int batch_size = 128, std::string train = "") {
    if (train.empty()) train = "\"" + *data_ + "/train.tsv\"";
    std::string path = dir + "/job.pbtxt";
    WriteFile(path, "data { train: [" + train + "] validation: \"" + *data_ +
                        "/validation.tsv\" batch_size: " + std::to_string(batch_size) +
                        " chunk_bytes: 1048576 }\n"
                        "model { kind: DEEPFM embedding_dim: 8 mlp_hidden: [16] }\n"
                        "training { epochs: 2 sparse_optimizer { learning_rate: 0.01 } }\n"
                        "cluster { dense_block_floats: 500 timeout_ms: 20000 "
                        "heartbeat_interval_ms: 200 heartbeat_timeout_ms: 4000 }\n"
                        "checkpoint { dir: \"" + checkpoints + "\" keep: 3 every_steps: 15 }\n");
    return path;
  }

  // Starts the job in its own process group, waits for its first complete
  // checkpoint, SIGKILLs rank `victim` (found by its pid through its environment),
  // and waits for the launcher. Kills the whole group if anything is left.
  CommandResult RunAndKill(int victim, const std::string& launcher_flags,
                           std::string config = "") {
    if (config.empty()) config = WriteConfig(dir_, dir_ + "/ckpt");
    std::string script =
        "cd " + dir_ + "\n"
        "setsid env " + TesseraRun() + " " + launcher_flags + " --servers 2 --workers 2 -- train "
        "--config " + config + " --model_dir " + dir_ + "/model --trace_batches " + dir_ +
        "/trace. > run.log 2>&1 &\n"
        "group=$!\n"
        "trap 'kill -9 -- -$group 2>/dev/null' EXIT\n"
        "for i in $(seq 600); do ls ckpt/*/MANIFEST >/dev/null 2>&1 && break; sleep 0.1; done\n"
        "sleep 1\n"
        "victim=''\n"
        "for p in $(pgrep -f -- '--config " + config + "'); do\n"
        "  if tr '\\0' '\\n' < /proc/$p/environ 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=" +
        std::to_string(victim) + "; then victim=$p; fi\n"
        "done\n"
        "echo \"killing rank " + std::to_string(victim) + ", pid $victim\"\n"
        "kill -9 $victim\n"
        "for i in $(seq 1200); do kill -0 $group 2>/dev/null || break; sleep 0.1; done\n"
        "if kill -0 $group 2>/dev/null; then echo 'LAUNCHER HUNG'; fi\n"
        "wait $group; echo \"launcher exit status $?\"\n"
        "cat run.log\n"
        "echo \"left behind: $(pgrep -f -- '--config " + config + "' | wc -l)\"\n";
    return RunCommand(script, 180);
  }

  std::string Checksums(const std::string& model_dir) {
    return RunCommand("grep xxh64 " + model_dir + "/MANIFEST").output;
  }

  // Epoch -> train_examples of its last line in metrics.jsonl.
  std::map<int, long> ExamplesPerEpoch(const std::string& metrics) {
    std::map<int, long> examples;
    std::istringstream lines(metrics);
    std::string line;
    while (std::getline(lines, line)) {
      examples[std::stoi(JsonField(line, "epoch"))] = std::stol(JsonField(line, "train_examples"));
    }
    return examples;
  }

  // Checks, from the workers' batch traces, that every example of every epoch was
  // trained exactly once: no batch twice, and the examples add up. Of the lost worker
  // (rank `lost`) only the batches the servers applied count: the first `applied`
  // examples of epoch `lost_epoch` (its last push may not have reached them).
  void ExpectEachExampleOnce(int lost, int lost_epoch, long applied) {
    std::map<int, long> examples;  // epoch -> examples
    std::set<std::tuple<int, long, long>> batches;  // (epoch, chunk, batch)
    for (int rank : {3, 4}) {
      std::ifstream trace(dir_ + "/trace." + std::to_string(rank));
      int epoch;
      long chunk, batch, n;
      long lost_sum = 0, dropped = 0;
      while (trace >> epoch >> chunk >> batch >> n) {
        if (rank == lost && epoch > lost_epoch) {
          ADD_FAILURE() << "the lost worker trained in epoch " << epoch + 1;
        }
        if (rank == lost && epoch == lost_epoch) {
          if (lost_sum + n > applied) {
            ++dropped;
            continue;
          }
          lost_sum += n;
        }
        examples[epoch] += n;
        EXPECT_TRUE(batches.insert({epoch, chunk, batch}).second)
            << "batch " << batch << " of chunk " << chunk << " trained twice in epoch " << epoch + 1;
      }
      if (rank == lost) {
        EXPECT_EQ(lost_sum, applied) << "its trace does not reach what the servers applied";
        EXPECT_LE(dropped, 1) << "pushed but not applied: at most its last batch";
      }
    }
    EXPECT_EQ(examples, (std::map<int, long>{{0, kTrainLines}, {1, kTrainLines}}));
  }

  // The job went on without rank `lost` and completed, each example trained once.
  void ExpectCompletedWithoutWorker(const CommandResult& r, int lost);

  void ExpectRecovered(const CommandResult& r) {
    EXPECT_NE(r.output.find("launcher exit status 0"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("restart 1 of 2 from the latest checkpoint"), std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("resuming from " + dir_ + "/ckpt/epoch-"), std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("trained after the checkpoint are replayed"), std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("left behind: 0"), std::string::npos) << r.output;
    const std::string expected = Checksums(*data_ + "/straight");
    ASSERT_NE(expected.find("xxh64"), std::string::npos);
    EXPECT_EQ(Checksums(dir_ + "/model"), expected) << r.output;
    std::map<int, long> examples = ExamplesPerEpoch(ReadFile(dir_ + "/model/metrics.jsonl"));
    EXPECT_EQ(examples, (std::map<int, long>{{1, kTrainLines}, {2, kTrainLines}})) << r.output;
  }

  static std::string* data_;
  std::string dir_;
};

std::string* FailureTest::data_ = nullptr;

std::pair<int, long> LossFromLog(const std::string& log);

void FailureTest::ExpectCompletedWithoutWorker(const CommandResult& r, int lost) {
  EXPECT_NE(r.output.find("launcher exit status 0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("left behind: 0"), std::string::npos) << r.output;
  EXPECT_EQ(ExamplesPerEpoch(ReadFile(dir_ + "/model/metrics.jsonl")),
            (std::map<int, long>{{1, kTrainLines}, {2, kTrainLines}}))
      << r.output;
  auto [epoch, applied] = LossFromLog(r.output);
  ASSERT_GE(applied, 0) << r.output;
  ExpectEachExampleOnce(lost, epoch, applied);
}

TEST_F(FailureTest, KilledServerEndsTheJobAtOnceWithNoRankLeft) {
  CommandResult r = RunAndKill(/*victim=*/1, "");
  EXPECT_NE(r.output.find("killing rank 1, pid "), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("LAUNCHER HUNG"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("launcher exit status 0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("server 0 (rank 1 on host"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("sent no heartbeat"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("left behind: 0"), std::string::npos) << r.output;
}

TEST_F(FailureTest, KilledServerIsRecoveredByMaxRestartsBitForBit) {
  ExpectRecovered(RunAndKill(/*victim=*/2, "--max-restarts 2"));
}

// The lost worker's epoch and how many of its examples the servers applied, from the
// scheduler's log lines.
std::pair<int, long> LossFromLog(const std::string& log) {
  int epoch = 0;
  long applied = -1;
  const size_t goes_on = log.find("declared lost. Epoch ");
  if (goes_on != std::string::npos) epoch = std::stoi(log.substr(goes_on + 21)) - 1;
  const size_t at = log.find("examples this epoch)");
  if (at != std::string::npos) {
    const size_t open = log.rfind('(', at);
    applied = std::stol(log.substr(open + 1));
  }
  return {epoch, applied};
}

TEST_F(FailureTest, KilledWorkerLeavesItsDataToTheOtherAndEachExampleIsTrainedOnce) {
  CommandResult r = RunAndKill(/*victim=*/4, "");
  EXPECT_NE(r.output.find("killing rank 4, pid "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("worker 1 (rank 4 on host"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("declared lost"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("of its data go to the others"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("restart"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("worker(s) (1 lost)"), std::string::npos) << r.output;
  ExpectCompletedWithoutWorker(r, /*lost=*/4);
}

// Worker 1 reads a tiny file and is out of data at once; worker 0 trains the two big
// ones alone and is killed: the epoch reopens and worker 1 trains the rest.
TEST_F(FailureTest, KilledLastTrainingWorkerReopensTheEpochForTheOther) {
  const std::string train = *data_ + "/train.tsv";
  ASSERT_EQ(RunCommand("cd " + dir_ + " && head -n 20000 " + train + " > a.tsv && sed -n " +
                       "20001,20100p " + train + " > b.tsv && sed -n '20101,$p' " + train +
                       " > c.tsv")
                .exit_code,
            0);
  // One chunk per file (8 MiB chunks): worker 0 gets a.tsv and c.tsv, worker 1 b.tsv.
  std::string config = WriteConfig(dir_, dir_ + "/ckpt", /*batch_size=*/32,
                                   "\"" + dir_ + "/a.tsv\", \"" + dir_ + "/b.tsv\", \"" + dir_ +
                                       "/c.tsv\"");
  RunCommand("sed -i 's/chunk_bytes: 1048576/chunk_bytes: 8388608/' " + config);
  CommandResult r = RunAndKill(/*victim=*/3, "", config);
  EXPECT_NE(r.output.find("worker 0 (rank 3 on host"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("reopens after step"), std::string::npos) << r.output;
  ExpectCompletedWithoutWorker(r, /*lost=*/3);
}

}  // namespace
}  // namespace tessera::testing
