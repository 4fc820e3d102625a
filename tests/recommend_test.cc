// The recommender tasks end to end on MovieLens-100K (../shared/data; skipped when
// absent), through real mpirun (1 scheduler, 2 servers, 2 workers) and the
// `tessera split`, `recommend` and `train --init_from` commands a user runs:
//   - biased MF on a random 80/20 split, with and without side features (RMSE);
//   - two-tower retrieval on implicit feedback (rating >= 4 positive, leave-last-out
//     by timestamp) against the most-popular baseline (HR@10, NDCG@10);
//   - top-K recommendations for one user exclude what the user has seen;
//   - continuing a trained model on new interactions reports before and after.
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace tessera::testing {
namespace {

class RecommendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (SharedDir().empty()) GTEST_SKIP() << "../shared/data is absent";
    ml_ = SharedDir() + "/data/movielens-100k";
    dir_ = MakeTempDir("recommend");
  }
  void TearDown() override {
    if (!dir_.empty()) RunCommand("rm -rf " + dir_);
  }

  // Trains `job` (a config body without output) into dir_/NAME; returns the output.
  CommandResult Train(const std::string& name, const std::string& job,
                      const std::string& extra_flags = "") {
    WriteFile(dir_ + "/" + name + ".pbtxt",
              job + "output { model_dir: \"" + dir_ + "/" + name + "\" }\n");
    return RunCommand(TesseraRun() + " --servers 2 --workers 2 -- train --config " + dir_ + "/" +
                      name + ".pbtxt " + extra_flags);
  }

  std::string Split(const std::string& flags) {
    CommandResult r = RunCommand(TesseraBin() + " split --ratings " + ml_ + "/u.data --out " +
                                 dir_ + "/split " + flags);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return dir_ + "/split";
  }

  std::string ml_;
  std::string dir_;
};

// The figure after `key` ("RMSE 0.9123" -> 0.9123) in the last line holding it.
double FigureAfter(const std::string& text, const std::string& key) {
  size_t pos = text.rfind(key + " ");
  if (pos == std::string::npos) return -1;
  return std::atof(text.c_str() + pos + key.size() + 1);
}

std::string MfJob(const std::string& split, const std::string& side, const std::string& model,
                  const std::string& optimizer, int epochs) {
  return "data { train: \"" + split + "/train\" validation: \"" + split +
         "/test\" format: MOVIELENS batch_size: 128 " + side + " }\n"
         "model { kind: MF loss: MSE embedding_dim: 32 label_offset: 3.53 " + model + " }\n"
         "training { epochs: " + std::to_string(epochs) + " seed: 1\n"
         "  sparse_optimizer { " + optimizer + " }\n  dense_optimizer { " + optimizer + " } }\n"
         "cluster { progress_interval_s: 0 }\n";
}

TEST_F(RecommendTest, BiasedMatrixFactorizationRatingsWithAndWithoutSideFeatures) {
  const std::string split = Split("--mode random --test_fraction 0.2 --seed 1");
  // examples/movielens_mf.pbtxt's settings.
  CommandResult plain = Train("mf", MfJob(split, "", "init_std: 0.01",
                                          "kind: ADAGRAD learning_rate: 0.05 l2: 0.002", 20));
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  const double rmse = std::atof(JsonField(ReadFile(dir_ + "/mf/metrics.jsonl"), "rmse").c_str());
  std::printf("MF: test RMSE %.4f\n", rmse);
  EXPECT_LE(rmse, 0.92) << plain.output;
  EXPECT_GT(rmse, 0.5) << "suspiciously good: " << plain.output;
  // examples/movielens_mf_side.pbtxt's settings: age bucket, gender, occupation, genres.
  const std::string side = "movielens { users: \"" + ml_ + "/u.user\" items: \"" + ml_ +
                           "/u.item\" }";
  CommandResult with_side = Train("mf-side", MfJob(split, side, "init_std: 0.01",
                                                   "kind: ADAGRAD learning_rate: 0.05 l2: 0.002",
                                                   5));
  ASSERT_EQ(with_side.exit_code, 0) << with_side.output;
  const double side_rmse =
      std::atof(JsonField(ReadFile(dir_ + "/mf-side/metrics.jsonl"), "rmse").c_str());
  std::printf("MF with side features: test RMSE %.4f\n", side_rmse);
  EXPECT_LE(side_rmse, 0.915) << with_side.output;

  // predict on the test file gives the training run's figure (same serving path).
  CommandResult predict = RunCommand(TesseraBin() + " predict --model " + dir_ +
                                     "/mf --data " + split + "/test");
  ASSERT_EQ(predict.exit_code, 0) << predict.output;
  EXPECT_NEAR(FigureAfter(predict.output, "RMSE"), rmse, 1e-5) << predict.output;

  // --init_from: continue the plain model on the side-feature-free test data itself
  // (new interactions); the report names both models and the figure before matches
  // the model it started from.
  CommandResult more =
      Train("mf-more", MfJob(split, "", "init_std: 0.01",
                             "kind: ADAGRAD learning_rate: 0.05 l2: 0.002", 1),
            "--init_from " + dir_ + "/mf");
  ASSERT_EQ(more.exit_code, 0) << more.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(more.output, m,
                                std::regex("before \\(([^)]*)\\): RMSE ([0-9.]+)")))
      << more.output;
  EXPECT_EQ(m[1].str(), dir_ + "/mf");
  EXPECT_NEAR(std::atof(m[2].str().c_str()), rmse, 1e-5);
  EXPECT_TRUE(std::regex_search(more.output, std::regex("after  \\([^)]*mf-more\\): RMSE")))
      << more.output;
}

TEST_F(RecommendTest, TwoTowerBeatsMostPopularAndRecommendsUnseenItems) {
  const std::string split = Split("--mode leave_last_out --positive_threshold 4");
  // Trained on the positives with sampled negatives; examples/movielens_two_tower.pbtxt.
  CommandResult r = Train(
      "tt", "data { train: \"" + split + "/train_positive\" validation: \"" + split +
                "/test\" format: MOVIELENS batch_size: 256 movielens { positive_threshold: 4 } }\n"
                "model { kind: TWO_TOWER embedding_dim: 32 tower_hidden: [64] init_std: 0.05 }\n"
                "training { epochs: 10 seed: 1 negative_sampling { count: 4 kind: UNIFORM }\n"
                "  sparse_optimizer { kind: ADAM learning_rate: 0.002 }\n"
                "  dense_optimizer { kind: ADAM learning_rate: 0.002 } }\n"
                "cluster { progress_interval_s: 0 }\n");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Every rated movie in train is "seen" (history), not only the positives.
  CommandResult eval = RunCommand(TesseraBin() + " recommend --model " + dir_ + "/tt --history " +
                                  split + "/train --evaluate " + split + "/test --k 10");
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(eval.output, m,
                                std::regex("model +HR@10 ([0-9.]+) +NDCG@10 ([0-9.]+)")))
      << eval.output;
  const double hr = std::atof(m[1].str().c_str()), ndcg = std::atof(m[2].str().c_str());
  ASSERT_TRUE(std::regex_search(eval.output, m,
                                std::regex("most popular +HR@10 ([0-9.]+) +NDCG@10 ([0-9.]+)")))
      << eval.output;
  const double pop_hr = std::atof(m[1].str().c_str()), pop_ndcg = std::atof(m[2].str().c_str());
  std::printf("two-tower HR@10 %.4f NDCG@10 %.4f; most popular HR@10 %.4f NDCG@10 %.4f\n", hr,
              ndcg, pop_hr, pop_ndcg);
  EXPECT_GT(hr, pop_hr) << eval.output;
  EXPECT_GT(ndcg, pop_ndcg) << eval.output;
  EXPECT_GT(pop_hr, 0.03) << "the baseline itself is broken: " << eval.output;

  // Top 5 for user 1: five distinct items, none of them rated by user 1 in train.
  CommandResult top = RunCommand(TesseraBin() + " recommend --model " + dir_ + "/tt --history " +
                                 split + "/train --user 1 --k 5");
  ASSERT_EQ(top.exit_code, 0) << top.output;
  std::set<std::string> seen;
  std::istringstream train(ReadFile(split + "/train"));
  for (std::string user, item, rest; train >> user >> item && std::getline(train, rest);) {
    if (user == "1") seen.insert(item);
  }
  ASSERT_GT(seen.size(), 10u);
  std::set<std::string> recommended;
  std::istringstream lines(top.output);
  for (std::string line; std::getline(lines, line);) {
    std::smatch row;
    if (!std::regex_match(line, row, std::regex("1\t([0-9]+)\t([0-9]+)\t[-0-9.e]+"))) continue;
    EXPECT_EQ(seen.count(row[2].str()), 0u) << "item " << row[2] << " was seen: " << top.output;
    recommended.insert(row[2].str());
  }
  EXPECT_EQ(recommended.size(), 5u) << top.output;

  // A user without history is skipped with a message naming it.
  CommandResult unknown = RunCommand(TesseraBin() + " recommend --model " + dir_ +
                                     "/tt --history " + split + "/train --user no-such-user");
  EXPECT_EQ(unknown.exit_code, 0) << unknown.output;
  EXPECT_NE(unknown.output.find("no-such-user has no interaction"), std::string::npos)
      << unknown.output;
}

}  // namespace
}  // namespace tessera::testing
