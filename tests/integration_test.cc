// End-to-end training through real mpirun: 1 scheduler, S servers, W workers on this
// machine, over real ZeroMQ sockets and real files.
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace tessera::testing {
namespace {

// Generated once for the whole suite: small enough for a 2-core CI machine.
class TrainingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_dir_ = new std::string(MakeTempDir("data"));
    CommandResult gen = RunCommand(TesseraBin() + " gen-data --out " + *data_dir_ +
                            " --train_lines 60000 --validation_lines 20000 --data_seed 7");
    ASSERT_EQ(gen.exit_code, 0) << gen.output;
  }
  static void TearDownTestSuite() {
    RunCommand("rm -rf " + *data_dir_);
    delete data_dir_;
  }

  // A job config over the suite's data; `model` is the body of the model block.
  static std::string Config(const std::string& model, const std::string& model_dir,
                            const std::string& extra = "") {
    return "data { train: \"" + *data_dir_ + "/train.tsv\" validation: \"" + *data_dir_ +
           "/validation.tsv\" batch_size: 512 chunk_bytes: 1048576 }\n"
           "model { " + model + " }\n"
           "training { epochs: 1 seed: 5\n"
           "  sparse_optimizer { kind: ADAM learning_rate: 0.01 }\n"
           "  dense_optimizer { kind: ADAM learning_rate: 0.003 } }\n"
           "output { model_dir: \"" + model_dir + "\" }\n" + extra;
  }

  static CommandResult Train(const std::string& config_path, int servers, int workers,
                             const std::string& flags = "") {
    return RunCommand(TesseraRun() + " --servers " + std::to_string(servers) + " --workers " +
               std::to_string(workers) + " -- train --config " + config_path + " " + flags);
  }

  static std::string* data_dir_;
};

std::string* TrainingTest::data_dir_ = nullptr;

TEST_F(TrainingTest, FmLearnsSavesAModelAndPredictAgrees) {
  std::string dir = MakeTempDir("fm");
  WriteFile(dir + "/job.pbtxt", Config("kind: FM embedding_dim: 8", dir + "/model"));
  CommandResult r = Train(dir + "/job.pbtxt", 2, 2);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string metrics = ReadFile(dir + "/model/metrics.jsonl");
  double auc = std::atof(JsonField(metrics, "auc").c_str());
  // A model that learned nothing scores 0.5 on this data.
  EXPECT_GT(auc, 0.68) << metrics;
  EXPECT_EQ(JsonField(metrics, "train_examples"), "60000");
  EXPECT_EQ(JsonField(metrics, "validation_examples"), "20000");
  EXPECT_NE(r.output.find("Validation: AUC"), std::string::npos) << r.output;

  CommandResult p = RunCommand(TesseraBin() + " predict --model " + dir + "/model --data " +
                        *data_dir_ + "/validation.tsv");
  ASSERT_EQ(p.exit_code, 0) << p.output;
  char expected[64];
  std::snprintf(expected, sizeof(expected), "AUC %.6f", auc);
  EXPECT_NE(p.output.find(expected), std::string::npos) << p.output << " vs " << expected;
  RunCommand("rm -rf " + dir);
}

TEST_F(TrainingTest, BspGivesTheSameModelOnOneTwoAndFourServers) {
  std::string dir = MakeTempDir("bsp");
  std::string aucs[3];
  int servers[3] = {1, 2, 4};
  for (int i = 0; i < 3; ++i) {
    std::string model_dir = dir + "/model" + std::to_string(servers[i]);
    std::string config = dir + "/job" + std::to_string(servers[i]) + ".pbtxt";
    WriteFile(config, Config("kind: DEEPFM embedding_dim: 8 mlp_hidden: [32, 16]", model_dir,
                             "cluster { dense_block_floats: 1000 }\n"));
    CommandResult r = Train(config, servers[i], 2);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    aucs[i] = JsonField(ReadFile(model_dir + "/metrics.jsonl"), "auc");
  }
  EXPECT_GT(std::atof(aucs[0].c_str()), 0.65);
  // Bit-identical models: the AUC agrees to every printed digit (9 significant).
  EXPECT_EQ(aucs[0], aucs[1]);
  EXPECT_EQ(aucs[0], aucs[2]);
  RunCommand("rm -rf " + dir);
}

TEST_F(TrainingTest, ServerThreadsGiveTheSameModelBitForBit) {
  // cluster.server_threads cuts each server's table into slot-owning shards, each
  // updated by a thread of its own: the saved shards (their checksums in the MANIFEST)
  // must not depend on how many.
  std::string dir = MakeTempDir("threads");
  std::string checksums[2];
  const int threads[2] = {1, 3};
  for (int i = 0; i < 2; ++i) {
    std::string model_dir = dir + "/model" + std::to_string(threads[i]);
    std::string config = dir + "/job" + std::to_string(threads[i]) + ".pbtxt";
    WriteFile(config, Config("kind: FM embedding_dim: 8", model_dir,
                             "cluster { server_threads: " + std::to_string(threads[i]) + " }\n"));
    CommandResult r = Train(config, 2, 2);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    checksums[i] = RunCommand("grep xxh64 " + model_dir + "/MANIFEST").output;
  }
  ASSERT_NE(checksums[0].find("xxh64"), std::string::npos) << checksums[0];
  EXPECT_EQ(checksums[0], checksums[1]);
  RunCommand("rm -rf " + dir);
}

TEST_F(TrainingTest, MpmdLaunchWithNamedRolesTrains) {
  std::string dir = MakeTempDir("mpmd");
  WriteFile(dir + "/job.pbtxt", Config("kind: LR", dir + "/model"));
  std::string job = " --config " + dir + "/job.pbtxt";
  std::string common = " --stdin none --oversubscribe --bind-to none --mca pml ob1 --mca btl self,vader ";
  std::string root = getuid() == 0 ? " --allow-run-as-root " : " ";
  CommandResult r = RunCommand("mpirun" + common + root + "-np 1 " + TesseraBin() + " scheduler" + job +
                        " : -np 2 " + TesseraBin() + " server" + job + " : -np 2 " +
                        TesseraBin() + " worker" + job);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  double auc = std::atof(JsonField(ReadFile(dir + "/model/metrics.jsonl"), "auc").c_str());
  EXPECT_GT(auc, 0.65);
  RunCommand("rm -rf " + dir);
}

TEST_F(TrainingTest, TwoEpochsWriteOneMetricsLineEach) {
  std::string dir = MakeTempDir("epochs");
  WriteFile(dir + "/job.pbtxt", Config("kind: LR", dir + "/model"));
  CommandResult r = Train(dir + "/job.pbtxt", 1, 2, "--epochs 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string metrics = ReadFile(dir + "/model/metrics.jsonl");
  EXPECT_NE(metrics.find("\"epoch\": 1,"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\"epoch\": 2,"), std::string::npos) << metrics;
  RunCommand("rm -rf " + dir);
}

// A short batch (here a chunk of 1 line with batch_size 4) weighs each example as a
// full batch does: one SGD step from zero on the line alone moves every parameter a
// quarter of what a full batch of four copies of it moves them, so the logit it then
// gives the line is a quarter. (Taken as a plain batch mean, both steps were equal.)
TEST_F(TrainingTest, AShortBatchWeighsEachExampleAsAFullBatchDoes) {
  const std::string dir = MakeTempDir("short");
  const std::string line = RunCommand("head -n 1 " + *data_dir_ + "/train.tsv").output;
  ASSERT_FALSE(line.empty());
  WriteFile(dir + "/one.tsv", line);
  WriteFile(dir + "/four.tsv", line + line + line + line);
  double logits[2];
  int i = 0;
  for (const std::string name : {"one", "four"}) {
    WriteFile(dir + "/" + name + ".pbtxt",
              "data { train: \"" + dir + "/" + name + ".tsv\" batch_size: 4 }\n"
              "model { kind: LR }\n"
              "training { epochs: 1 sparse_optimizer { kind: SGD learning_rate: 0.1 }\n"
              "  dense_optimizer { kind: SGD learning_rate: 0.1 } }\n"
              "output { model_dir: \"" + dir + "/" + name + "\" }\n");
    CommandResult r = Train(dir + "/" + name + ".pbtxt", 1, 1);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    CommandResult p = RunCommand(TesseraBin() + " predict --model " + dir + "/" + name +
                                 " --data " + dir + "/one.tsv --predictions_out " + dir + "/" +
                                 name + ".pred");
    ASSERT_EQ(p.exit_code, 0) << p.output;
    const std::string pred = ReadFile(dir + "/" + name + ".pred");
    const double prob = std::atof(pred.substr(pred.find('\t') + 1).c_str());
    ASSERT_GT(prob, 0.0) << pred;
    ASSERT_LT(prob, 1.0) << pred;
    logits[i++] = std::log(prob / (1 - prob));
  }
  EXPECT_GT(std::abs(logits[1]), 1e-3);  // the full batch moved the model
  EXPECT_NEAR(logits[0], logits[1] / 4, 1e-5) << logits[0] << " " << logits[1];
  RunCommand("rm -rf " + dir);
}

// The real Criteo sample (../shared/data/criteo-sample): parts 0-2 train, part 3
// validates. Logistic regression on 100k real rows reaches ~0.72 AUC.
TEST(CriteoSampleTest, LogisticRegressionLearnsRealClicks) {
  std::string shared = SharedDir();
  if (shared.empty()) GTEST_SKIP() << "no ../shared/data here";
  std::string data = shared + "/data/criteo-sample/toy_train.part-";
  std::string dir = MakeTempDir("criteo");
  WriteFile(dir + "/job.pbtxt",
            "data { train: \"" + data + "0.txt.gz\" train: \"" + data + "1.txt.gz\" train: \"" +
                data + "2.txt.gz\" validation: \"" + data + "3.txt.gz\" batch_size: 512 }\n"
                "model { kind: LR }\n"
                "training { epochs: 1 sparse_optimizer { kind: ADAGRAD learning_rate: 0.05 }\n"
                "  dense_optimizer { kind: ADAGRAD learning_rate: 0.05 } }\n"
                "output { model_dir: \"" + dir + "/model\" }\n");
  CommandResult r = RunCommand(TesseraRun() + " --servers 2 --workers 2 -- train --config " + dir +
                        "/job.pbtxt");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string metrics = ReadFile(dir + "/model/metrics.jsonl");
  EXPECT_EQ(JsonField(metrics, "train_examples"), "102855");
  EXPECT_EQ(JsonField(metrics, "validation_examples"), "34284");
  EXPECT_GT(std::atof(JsonField(metrics, "auc").c_str()), 0.70) << metrics;
  RunCommand("rm -rf " + dir);
}

}  // namespace
}  // namespace tessera::testing
