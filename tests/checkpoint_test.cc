// Checkpoints through real mpirun: exact resume, resharding onto another number of
// servers, and falling back past a corrupt checkpoint; the same through chains of
// incremental checkpoints (checkpoint.full_every).
#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace tessera::testing {
namespace {

class CheckpointTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new std::string(MakeTempDir("ckdata"));
    CommandResult gen = RunCommand(TesseraBin() + " gen-data --out " + *data_ +
                                   " --train_lines 30000 --validation_lines 10000 --data_seed 3");
    ASSERT_EQ(gen.exit_code, 0) << gen.output;
  }
  static void TearDownTestSuite() {
    RunCommand("rm -rf " + *data_);
    delete data_;
  }
  void SetUp() override { dir_ = MakeTempDir("ck"); }
  void TearDown() override { RunCommand("rm -rf " + dir_); }

  // A DeepFM job with Adam (optimizer state matters) checkpointing every epoch.
  std::string Config() {
    std::string path = dir_ + "/job.pbtxt";
    WriteFile(path, "data { train: \"" + *data_ + "/train.tsv\" validation: \"" + *data_ +
                        "/validation.tsv\" batch_size: 512 chunk_bytes: 1048576 " + data_extra_ + " }\n"
                        "model { kind: DEEPFM embedding_dim: 8 mlp_hidden: [16] " + model_extra_ +
                        " }\n"
                        "training { epochs: 3 sparse_optimizer { learning_rate: 0.01 } }\n"
                        "cluster { dense_block_floats: 500 }\n"
                        "checkpoint { dir: \"" + dir_ + "/ckpt\" keep: " + std::to_string(keep_) + " " + checkpoint_extra_ +
                        " }\n");
    return path;
  }

  CommandResult Train(int servers, const std::string& flags) {
    return RunCommand(TesseraRun() + " --servers " + std::to_string(servers) +
                      " --workers 2 -- train --config " + Config() + " " + flags);
  }

  // The shard checksums a model directory's MANIFEST lists: equal iff bit-identical.
  std::string Checksums(const std::string& model_dir) {
    CommandResult r = RunCommand("grep xxh64 " + model_dir + "/MANIFEST");
    return r.output;
  }

  // The bytes of every file a checkpoint's MANIFEST lists.
  long long ListedBytes(const std::string& checkpoint) {
    CommandResult r =
        RunCommand("awk '/ bytes:/ {s += $2} END {print s + 0}' " + checkpoint + "/MANIFEST");
    return std::atoll(r.output.c_str());
  }

  // The `base:` line of a checkpoint's MANIFEST ("" for a full checkpoint).
  std::string BaseOf(const std::string& checkpoint) {
    CommandResult r = RunCommand("grep '^base:' " + checkpoint + "/MANIFEST");
    return r.output;
  }

  static std::string* data_;
  std::string dir_;
  int keep_ = 5;
  std::string checkpoint_extra_;  // more checkpoint { } fields
  std::string model_extra_;       // more model { } fields
  std::string data_extra_;        // more data { } fields
};

std::string* CheckpointTest::data_ = nullptr;

TEST_F(CheckpointTest, ResumeGivesTheModelOfTheUninterruptedRunBitForBit) {
  CommandResult straight = Train(2, "--model_dir " + dir_ + "/straight");
  ASSERT_EQ(straight.exit_code, 0) << straight.output;
  RunCommand("cp -r " + dir_ + "/ckpt/epoch-0001 " + dir_ + "/e1");
  CommandResult resumed = Train(2, "--model_dir " + dir_ + "/resumed --resume " + dir_ + "/e1");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming from " + dir_ + "/e1 (epoch 1)"), std::string::npos)
      << resumed.output;
  std::string expected = Checksums(dir_ + "/straight");
  ASSERT_NE(expected.find("xxh64"), std::string::npos);
  EXPECT_EQ(Checksums(dir_ + "/resumed"), expected);
}

TEST_F(CheckpointTest, ResumingOnTwoThenThreeThenOneServersKeepsTheModel) {
  CommandResult straight = Train(2, "--model_dir " + dir_ + "/straight");
  ASSERT_EQ(straight.exit_code, 0) << straight.output;
  std::string auc = JsonField(ReadFile(dir_ + "/straight/metrics.jsonl"), "auc");
  RunCommand("mkdir " + dir_ + "/keep && cp -r " + dir_ + "/ckpt/epoch-0001 " + dir_ + "/keep/");
  // Epoch 2 on 3 servers from the 2-server checkpoint, then epoch 3 on 1 server.
  CommandResult three = Train(3, "--epochs 2 --model_dir " + dir_ + "/m3 --resume " + dir_ +
                                     "/keep/epoch-0001");
  ASSERT_EQ(three.exit_code, 0) << three.output;
  CommandResult one = Train(1, "--model_dir " + dir_ + "/m1 --resume " + dir_ + "/ckpt/epoch-0002");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  EXPECT_EQ(JsonField(ReadFile(dir_ + "/m1/metrics.jsonl"), "auc"), auc);
}

TEST_F(CheckpointTest, LatestSkipsACorruptCheckpointAndSaysSo) {
  CommandResult first = Train(2, "--epochs 2 --model_dir " + dir_ + "/m");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  // Flip one byte in the newest checkpoint's state file.
  std::string bad = dir_ + "/ckpt/epoch-0002/state-00000-of-00002.tsr";
  RunCommand("printf 'x' | dd of=" + bad + " bs=1 seek=64 conv=notrunc");
  CommandResult inspect = RunCommand(TesseraBin() + " inspect --dir " + dir_ + "/ckpt/epoch-0002");
  EXPECT_EQ(inspect.exit_code, 1) << inspect.output;
  EXPECT_NE(inspect.output.find("valid: NO"), std::string::npos) << inspect.output;
  EXPECT_NE(inspect.output.find(bad), std::string::npos) << inspect.output;
  CommandResult good = RunCommand(TesseraBin() + " inspect --dir " + dir_ + "/ckpt/epoch-0001");
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_NE(good.output.find("epochs done 1"), std::string::npos) << good.output;
  CommandResult resumed = Train(2, "--model_dir " + dir_ + "/r --resume latest");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("skipping checkpoint " + dir_ + "/ckpt/epoch-0002"),
            std::string::npos)
      << resumed.output;
  EXPECT_NE(resumed.output.find(bad), std::string::npos) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming from " + dir_ + "/ckpt/epoch-0001"), std::string::npos)
      << resumed.output;
}

// A checkpoint taken after step 10 of epoch 2 (and one after step 20 of epoch 1, in
// a worker's second chunk) resumes to the uninterrupted run's model, bit for bit:
// the model after the step, and each worker's data cursor.
TEST_F(CheckpointTest, ResumeFromInsideAnEpochGivesTheUninterruptedModelBitForBit) {
  keep_ = 20;
  checkpoint_extra_ = "every_steps: 10";
  CommandResult straight = Train(2, "--model_dir " + dir_ + "/straight");
  ASSERT_EQ(straight.exit_code, 0) << straight.output;
  EXPECT_NE(straight.output.find("checkpoint " + dir_ + "/ckpt/epoch-0001-step-000000010 (epoch 2, "
                                 "step 10)"),
            std::string::npos)
      << straight.output;
  std::string expected = Checksums(dir_ + "/straight");
  ASSERT_NE(expected.find("xxh64"), std::string::npos);
  for (std::string name : {"epoch-0001-step-000000010", "epoch-0000-step-000000020"}) {
    RunCommand("rm -rf " + dir_ + "/from " + dir_ + "/resumed && cp -r " + dir_ + "/ckpt/" +
               name + " " + dir_ + "/from");
    CommandResult inspect = RunCommand(TesseraBin() + " inspect --dir " + dir_ + "/from");
    EXPECT_EQ(inspect.exit_code, 0) << inspect.output;
    CommandResult resumed = Train(2, "--model_dir " + dir_ + "/resumed --resume " + dir_ + "/from");
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
    EXPECT_NE(resumed.output.find("resuming from " + dir_ + "/from"), std::string::npos)
        << resumed.output;
    EXPECT_EQ(Checksums(dir_ + "/resumed"), expected) << name;
    // The resumed epoch's example count adds the cursors' to what was trained after.
    std::string resumed_metrics = ReadFile(dir_ + "/resumed/metrics.jsonl");
    std::string straight_metrics = ReadFile(dir_ + "/straight/metrics.jsonl");
    std::string first = resumed_metrics.substr(0, resumed_metrics.find(", \"train_loss"));
    EXPECT_NE(straight_metrics.find(first), std::string::npos) << first << "\n" << straight_metrics;
  }
}

// The chunk ids each epoch's training read, per worker, in the order read: from the
// workers' batch traces (ranks 3 and 4 with 2 servers), "epoch chunk batch examples".
std::map<int, std::vector<std::vector<int>>> ChunkOrders(const std::string& trace_prefix) {
  std::map<int, std::vector<std::vector<int>>> orders;  // epoch -> per worker
  for (int rank : {3, 4}) {
    std::istringstream lines(ReadFile(trace_prefix + std::to_string(rank)));
    int epoch, chunk;
    long long batch, examples;
    while (lines >> epoch >> chunk >> batch >> examples) {
      auto& per_worker = orders[epoch];
      per_worker.resize(2);
      std::vector<int>& seq = per_worker[rank - 3];
      if (seq.empty() || seq.back() != chunk) seq.push_back(chunk);
    }
  }
  return orders;
}

TEST_F(CheckpointTest, ShuffledChunksChangeTheOrderEachEpochAndResumeBitForBit) {
  keep_ = 20;
  checkpoint_extra_ = "every_steps: 10";
  data_extra_ = "shuffle_chunks: true";
  CommandResult straight =
      Train(2, "--model_dir " + dir_ + "/straight --trace_batches " + dir_ + "/trace");
  ASSERT_EQ(straight.exit_code, 0) << straight.output;
  auto orders = ChunkOrders(dir_ + "/trace");
  ASSERT_EQ(orders.size(), 3u);
  std::set<std::vector<std::vector<int>>> distinct;
  for (auto& [epoch, per_worker] : orders) {
    // Every chunk once an epoch, over the two workers.
    std::vector<int> all = per_worker[0];
    all.insert(all.end(), per_worker[1].begin(), per_worker[1].end());
    std::sort(all.begin(), all.end());
    ASSERT_GE(all.size(), 3u) << "epoch " << epoch;
    for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], static_cast<int>(i)) << epoch;
    distinct.insert(per_worker);
  }
  EXPECT_GE(distinct.size(), 2u) << "the same deal in every epoch";

  // Resumed inside the second epoch, the deal is the same and so is the model.
  const std::string expected = Checksums(dir_ + "/straight");
  RunCommand("cp -r " + dir_ + "/ckpt/epoch-0001-step-000000010 " + dir_ + "/from");
  CommandResult resumed = Train(2, "--model_dir " + dir_ + "/resumed --resume " + dir_ + "/from");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(Checksums(dir_ + "/resumed"), expected);
}

TEST_F(CheckpointTest, MidEpochCheckpointResumesOnOtherServerCountsButRefusesOtherWorkerCounts) {
  keep_ = 20;
  checkpoint_extra_ = "every_steps: 10";
  CommandResult straight = Train(2, "--epochs 1 --model_dir " + dir_ + "/straight");
  ASSERT_EQ(straight.exit_code, 0) << straight.output;
  const std::string from = dir_ + "/ckpt/epoch-0000-step-000000010";
  CommandResult three = Train(3, "--epochs 1 --model_dir " + dir_ + "/m3 --resume " + from);
  ASSERT_EQ(three.exit_code, 0) << three.output;
  EXPECT_EQ(JsonField(ReadFile(dir_ + "/m3/metrics.jsonl"), "auc"),
            JsonField(ReadFile(dir_ + "/straight/metrics.jsonl"), "auc"));
  CommandResult other = RunCommand(TesseraRun() + " --servers 2 --workers 3 -- train --config " +
                                   Config() + " --epochs 1 --model_dir " + dir_ +
                                   "/w3 --resume " + from);
  EXPECT_NE(other.exit_code, 0) << other.output;
  EXPECT_NE(other.output.find("taken inside an epoch by 2 worker(s)"), std::string::npos)
      << other.output;
}

// checkpoint.every_seconds: the step is chosen at run time, the resume is still exact.
TEST_F(CheckpointTest, TimedCheckpointInsideAnEpochResumesBitForBit) {
  keep_ = 50;
  checkpoint_extra_ = "every_seconds: 0.1";
  CommandResult straight = Train(2, "--epochs 2 --batch_size 32 --model_dir " + dir_ + "/straight");
  ASSERT_EQ(straight.exit_code, 0) << straight.output;
  CommandResult list = RunCommand("ls -d " + dir_ + "/ckpt/epoch-*-step-*/MANIFEST | head -1");
  ASSERT_EQ(list.output.find("cannot access"), std::string::npos) << straight.output;
  ASSERT_NE(list.output.find("/MANIFEST"), std::string::npos) << straight.output;
  const std::string from = list.output.substr(0, list.output.find("/MANIFEST"));
  CommandResult resumed =
      Train(2, "--epochs 2 --batch_size 32 --model_dir " + dir_ + "/resumed --resume " + from);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(Checksums(dir_ + "/resumed"), Checksums(dir_ + "/straight")) << from;
}

TEST_F(CheckpointTest, KeepsOnlyTheNewestCheckpoints) {
  std::string config = Config();
  RunCommand("sed -i 's/keep: 5/keep: 2/' " + config);
  CommandResult r = RunCommand(TesseraRun() + " --servers 1 --workers 2 -- train --config " +
                               config + " --model_dir " + dir_ + "/m");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(RunCommand("ls " + dir_ + "/ckpt").output, "epoch-0002\nepoch-0003\n");
}

// Dropout's masks follow the (epoch, step) a worker trains, not how many steps this
// process ran: a resumed run draws the uninterrupted run's masks.
TEST_F(CheckpointTest, ResumeWithDropoutFromInsideAnEpochIsBitForBit) {
  keep_ = 20;
  checkpoint_extra_ = "every_steps: 10";
  model_extra_ = "dropout: 0.3";
  CommandResult straight = Train(2, "--model_dir " + dir_ + "/straight --epochs 2");
  ASSERT_EQ(straight.exit_code, 0) << straight.output;
  std::string expected = Checksums(dir_ + "/straight");
  ASSERT_NE(expected.find("xxh64"), std::string::npos);
  CommandResult resumed = Train(2, "--model_dir " + dir_ + "/resumed --epochs 2 --resume " + dir_ +
                                       "/ckpt/epoch-0001-step-000000010");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(Checksums(dir_ + "/resumed"), expected);
}


// ---- Incremental checkpoints (checkpoint.full_every) ----
//
// With every_steps: 10 and full_every: 3 the 30-step epochs of this data give, per
// epoch, checkpoints after steps 10, 20, 30 and at the end; every third one a server
// writes is full: epoch-0000-step-10 full, -20 and -30 incremental, epoch-0001 full,
// epoch-0001-step-10 and -20 incremental, epoch-0001-step-30 full, epoch-0002
// incremental, ... The tests check the ones they rely on.
constexpr char kChain[] = "every_steps: 10 full_every: 3";

TEST_F(CheckpointTest, ResumeFromAnIncrementalCheckpointGivesTheUninterruptedModelBitForBit) {
  keep_ = 50;
  checkpoint_extra_ = kChain;
  CommandResult straight = Train(2, "--model_dir " + dir_ + "/straight");
  ASSERT_EQ(straight.exit_code, 0) << straight.output;
  const std::string from = dir_ + "/ckpt/epoch-0001-step-000000020";
  EXPECT_NE(straight.output.find("checkpoint " + from + " (epoch 2, step 20): "), std::string::npos)
      << straight.output;
  EXPECT_NE(straight.output.find("changed rows on top of epoch-0001-step-000000010"),
            std::string::npos)
      << straight.output;
  ASSERT_EQ(BaseOf(from), "base: \"epoch-0001-step-000000010\"\n");
  CommandResult inspect = RunCommand(TesseraBin() + " inspect --dir " + from);
  EXPECT_EQ(inspect.exit_code, 0) << inspect.output;
  EXPECT_NE(inspect.output.find("incremental checkpoint: "), std::string::npos) << inspect.output;
  EXPECT_NE(inspect.output.find("(3 links; resuming reads each in turn): epoch-0001 (full, "),
            std::string::npos)
      << inspect.output;
  // Resumed where it lies (its bases beside it); the run writes the later ones again.
  CommandResult resumed = Train(2, "--model_dir " + dir_ + "/resumed --resume " + from);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming from " + from + " (epoch 1, step 20 of epoch 2)"),
            std::string::npos)
      << resumed.output;
  std::string expected = Checksums(dir_ + "/straight");
  ASSERT_NE(expected.find("xxh64"), std::string::npos);
  EXPECT_EQ(Checksums(dir_ + "/resumed"), expected);
}

TEST_F(CheckpointTest, AnIncrementalCheckpointIsMuchSmallerWhenFewRowsChanged) {
  // A checkpoint after every step, full every 20th: step 21's is full (the ~75k rows
  // trained so far), step 22's holds only the rows step 22 touched.
  keep_ = 100;
  checkpoint_extra_ = "every_steps: 1 full_every: 20";
  CommandResult r = Train(2, "--epochs 1 --model_dir " + dir_ + "/m");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string full = dir_ + "/ckpt/epoch-0000-step-000000021";
  const std::string delta = dir_ + "/ckpt/epoch-0000-step-000000022";
  ASSERT_EQ(BaseOf(full), "");
  ASSERT_EQ(BaseOf(delta), "base: \"epoch-0000-step-000000021\"\n");
  const long long full_bytes = ListedBytes(full), delta_bytes = ListedBytes(delta);
  ASSERT_GT(full_bytes, 1000000) << full;
  EXPECT_LT(delta_bytes * 5, full_bytes) << delta_bytes << " bytes against " << full_bytes;
  // And it is the model after step 22: resuming from it trains on to the same model.
  CommandResult resumed = Train(2, "--epochs 1 --model_dir " + dir_ + "/resumed --resume " + delta);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(Checksums(dir_ + "/resumed"), Checksums(dir_ + "/m"));
}

TEST_F(CheckpointTest, ADamagedOrMissingBaseMakesResumeAutoFallBackToAValidChain) {
  keep_ = 50;
  checkpoint_extra_ = kChain;
  CommandResult straight = Train(2, "--epochs 2 --model_dir " + dir_ + "/straight");
  ASSERT_EQ(straight.exit_code, 0) << straight.output;
  const std::string ckpt = dir_ + "/ckpt/";
  ASSERT_EQ(BaseOf(ckpt + "epoch-0002"), "base: \"epoch-0001-step-000000030\"\n");
  ASSERT_EQ(BaseOf(ckpt + "epoch-0001-step-000000030"), "");
  ASSERT_EQ(BaseOf(ckpt + "epoch-0001-step-000000020"), "base: \"epoch-0001-step-000000010\"\n");
  ASSERT_EQ(BaseOf(ckpt + "epoch-0001-step-000000010"), "base: \"epoch-0001\"\n");
  // A flipped byte in the full base of the newest; the full base of the two before it gone.
  const std::string bad = ckpt + "epoch-0001-step-000000030/state-00000-of-00002.tsr";
  RunCommand("printf 'x' | dd of=" + bad + " bs=1 seek=64 conv=notrunc");
  CommandResult inspect = RunCommand(TesseraBin() + " inspect --dir " + ckpt + "epoch-0002");
  EXPECT_EQ(inspect.exit_code, 1) << inspect.output;
  EXPECT_NE(inspect.output.find("valid: NO"), std::string::npos) << inspect.output;
  EXPECT_NE(inspect.output.find(bad), std::string::npos) << inspect.output;
  RunCommand("rm -r " + ckpt + "epoch-0001");
  inspect = RunCommand(TesseraBin() + " inspect --dir " + ckpt + "epoch-0001-step-000000020");
  EXPECT_EQ(inspect.exit_code, 1) << inspect.output;
  EXPECT_NE(inspect.output.find(ckpt + "epoch-0001/MANIFEST"), std::string::npos) << inspect.output;
  CommandResult resumed = Train(2, "--epochs 2 --model_dir " + dir_ + "/resumed --resume auto");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("skipping checkpoint " + ckpt + "epoch-0002: "), std::string::npos)
      << resumed.output;
  EXPECT_NE(resumed.output.find(bad), std::string::npos) << resumed.output;
  EXPECT_NE(resumed.output.find("skipping checkpoint " + ckpt + "epoch-0001-step-000000020: "),
            std::string::npos)
      << resumed.output;
  EXPECT_NE(resumed.output.find(ckpt + "epoch-0001/MANIFEST"), std::string::npos) << resumed.output;
  // The newest valid chain: epoch-0000-step-10 (full) <- -20 <- -30.
  EXPECT_NE(resumed.output.find("resuming from " + ckpt + "epoch-0000-step-000000030"),
            std::string::npos)
      << resumed.output;
  EXPECT_EQ(Checksums(dir_ + "/resumed"), Checksums(dir_ + "/straight"));
}

TEST_F(CheckpointTest, ResumingAChainOnThreeThenOneServersKeepsTheModel) {
  keep_ = 50;
  checkpoint_extra_ = kChain;
  CommandResult straight = Train(2, "--model_dir " + dir_ + "/straight");
  ASSERT_EQ(straight.exit_code, 0) << straight.output;
  std::string auc = JsonField(ReadFile(dir_ + "/straight/metrics.jsonl"), "auc");
  // From a 2-server link; 3 servers then write the next link on top of it.
  const std::string ckpt = dir_ + "/ckpt/";
  CommandResult three = Train(
      3, "--epochs 2 --model_dir " + dir_ + "/m3 --resume " + ckpt + "epoch-0001-step-000000010");
  ASSERT_EQ(three.exit_code, 0) << three.output;
  const std::string mixed = ckpt + "epoch-0001-step-000000020";
  ASSERT_EQ(BaseOf(mixed), "base: \"epoch-0001-step-000000010\"\n");
  EXPECT_NE(ReadFile(mixed + "/MANIFEST").find("shard-00002-of-00003.tsr"), std::string::npos);
  // 3-server delta <- 2-server delta <- 2-server full, read by 1 server.
  CommandResult one = Train(1, "--model_dir " + dir_ + "/m1 --resume " + mixed);
  ASSERT_EQ(one.exit_code, 0) << one.output;
  EXPECT_EQ(JsonField(ReadFile(dir_ + "/m1/metrics.jsonl"), "auc"), auc);
}

TEST_F(CheckpointTest, PredictExportAndInitFromReadAnIncrementalCheckpointsWholeChain) {
  keep_ = 50;
  checkpoint_extra_ = kChain;
  CommandResult straight = Train(2, "--model_dir " + dir_ + "/straight");
  ASSERT_EQ(straight.exit_code, 0) << straight.output;
  const std::string last = dir_ + "/ckpt/epoch-0003";  // the model after the last epoch
  ASSERT_NE(BaseOf(last), "");
  const std::string train = *data_ + "/train.tsv";
  auto predict = [&](const std::string& model, const std::string& out) {
    return RunCommand(TesseraBin() + " predict --model " + model + " --data " + train +
                      " --predictions_out " + dir_ + "/" + out);
  };
  ASSERT_EQ(predict(dir_ + "/straight", "p_model").exit_code, 0);
  CommandResult from_chain = predict(last, "p_chain");
  ASSERT_EQ(from_chain.exit_code, 0) << from_chain.output;
  EXPECT_EQ(ReadFile(dir_ + "/p_chain"), ReadFile(dir_ + "/p_model"));
  CommandResult exported =
      RunCommand(TesseraBin() + " export --checkpoint " + last + " --out " + dir_ + "/served");
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  // Every key of the training data was trained on: the export scores exactly alike.
  ASSERT_EQ(predict(dir_ + "/served", "p_served").exit_code, 0);
  EXPECT_EQ(ReadFile(dir_ + "/p_served"), ReadFile(dir_ + "/p_model"));
  // --init_from the chain starts the servers from the same weights as from the model.
  checkpoint_extra_ = "";
  CommandResult from_chain_run =
      Train(2, "--epochs 1 --model_dir " + dir_ + "/from_chain --init_from " + last);
  ASSERT_EQ(from_chain_run.exit_code, 0) << from_chain_run.output;
  CommandResult from_model_run =
      Train(2, "--epochs 1 --model_dir " + dir_ + "/from_model --init_from " + dir_ + "/straight");
  ASSERT_EQ(from_model_run.exit_code, 0) << from_model_run.output;
  EXPECT_EQ(Checksums(dir_ + "/from_chain"), Checksums(dir_ + "/from_model"));
}

TEST_F(CheckpointTest, KeepNeverDeletesABaseAKeptCheckpointNeeds) {
  keep_ = 2;
  checkpoint_extra_ = kChain;
  CommandResult r = Train(2, "--model_dir " + dir_ + "/m");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The newest two, epoch-0002-step-30 and epoch-0003, and the full one they build on.
  EXPECT_EQ(RunCommand("ls " + dir_ + "/ckpt").output,
            "epoch-0002-step-000000020\nepoch-0002-step-000000030\nepoch-0003\n");
  CommandResult inspect = RunCommand(TesseraBin() + " inspect --dir " + dir_ + "/ckpt/epoch-0003");
  EXPECT_EQ(inspect.exit_code, 0) << inspect.output;
}

}  // namespace
}  // namespace tessera::testing
