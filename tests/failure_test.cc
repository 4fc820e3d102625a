// Killed ranks, through real mpirun and real SIGKILL: the job ends at once with no rank
// left behind, and launch/tessera-run --max-restarts resumes it from the newest
// checkpoint (inside an epoch) to the uninterrupted run's model, bit for bit, with
// every training example counted once per epoch.
#include <map>
#include <sstream>
#include <string>

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

  // Small batches, so the job runs for a while; a checkpoint every 15 steps.
  static std::string WriteConfig(const std::string& dir, const std::string& checkpoints) {
    std::string path = dir + "/job.pbtxt";
    WriteFile(path, "data { train: \"" + *data_ + "/train.tsv\" validation: \"" + *data_ +
                        "/validation.tsv\" batch_size: 128 chunk_bytes: 1048576 }\n"
                        "model { kind: DEEPFM embedding_dim: 8 mlp_hidden: [16] }\n"
                        "training { epochs: 2 sparse_optimizer { learning_rate: 0.01 } }\n"
                        "cluster { dense_block_floats: 500 timeout_ms: 20000 }\n"
                        "checkpoint { dir: \"" + checkpoints + "\" keep: 3 every_steps: 15 }\n");
    return path;
  }

  // Starts the job in its own process group, waits for its first complete
  // checkpoint, SIGKILLs rank `victim` (found by its pid through its environment),
  // and waits for the launcher. Kills the whole group if anything is left.
  CommandResult RunAndKill(int victim, const std::string& launcher_flags) {
    const std::string config = WriteConfig(dir_, dir_ + "/ckpt");
    std::string script =
        "cd " + dir_ + "\n"
        "setsid env " + TesseraRun() + " " + launcher_flags + " --servers 2 --workers 2 -- train "
        "--config " + config + " --model_dir " + dir_ + "/model > run.log 2>&1 &\n"
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

TEST_F(FailureTest, KilledServerEndsTheJobAtOnceWithNoRankLeft) {
  CommandResult r = RunAndKill(/*victim=*/1, "");
  EXPECT_NE(r.output.find("killing rank 1, pid "), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("LAUNCHER HUNG"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("launcher exit status 0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("left behind: 0"), std::string::npos) << r.output;
}

TEST_F(FailureTest, KilledServerIsRecoveredByMaxRestartsBitForBit) {
  ExpectRecovered(RunAndKill(/*victim=*/2, "--max-restarts 2"));
}

TEST_F(FailureTest, KilledWorkerIsRecoveredByMaxRestartsWithEveryExampleOnce) {
  ExpectRecovered(RunAndKill(/*victim=*/4, "--max-restarts 2"));
}

}  // namespace
}  // namespace tessera::testing
