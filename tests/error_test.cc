// Bad input and broken clusters give a clear error, never a crash or a hang.
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace tessera::testing {
namespace {

class ErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("err");
    CommandResult gen = RunCommand(TesseraBin() + " gen-data --out " + dir_ +
                            " --train_lines 5000 --validation_lines 1000");
    ASSERT_EQ(gen.exit_code, 0) << gen.output;
  }
  void TearDown() override { RunCommand("rm -rf " + dir_); }

  std::string JobText(const std::string& train, const std::string& extra = "") {
    return "data { train: \"" + train + "\" validation: \"" + dir_ + "/validation.tsv\" }\n" +
           "model { kind: LR }\n" + "output { model_dir: \"" + dir_ + "/model\" }\n" + extra;
  }

  std::string dir_;
};

TEST_F(ErrorTest, MalformedLineIsSkippedAndReportedWithFileAndLine) {
  // Line 1235 gets a word where a label belongs; the rest of the file is intact.
  std::string bad = dir_ + "/bad.tsv";
  RunCommand("awk 'NR==1235 {print \"oops\\t\" $0; next} {print}' " + dir_ + "/train.tsv > " + bad);
  WriteFile(dir_ + "/job.pbtxt", JobText(bad));
  CommandResult r = RunCommand(TesseraRun() + " --servers 1 --workers 2 -- train --config " + dir_ +
                        "/job.pbtxt");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(bad + ":1235:"), std::string::npos) << r.output;
  std::string metrics = ReadFile(dir_ + "/model/metrics.jsonl");
  EXPECT_EQ(JsonField(metrics, "bad_lines"), "1") << metrics;
  EXPECT_EQ(JsonField(metrics, "train_examples"), "4999") << metrics;
}

TEST_F(ErrorTest, TooManyMalformedLinesAbortTheJobWithAReason) {
  std::string bad = dir_ + "/bad.tsv";
  RunCommand("awk 'NR%10==0 {print \"x\"; next} {print}' " + dir_ + "/train.tsv > " + bad);
  WriteFile(dir_ + "/job.pbtxt", JobText(bad));
  CommandResult r = RunCommand(TesseraRun() + " --servers 1 --workers 1 -- train --config " + dir_ +
                        "/job.pbtxt");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("max_bad_line_ratio"), std::string::npos) << r.output;
}

TEST_F(ErrorTest, UnknownConfigFieldNamesFileLineAndField) {
  std::string config = dir_ + "/job.pbtxt";
  WriteFile(config, JobText(dir_ + "/train.tsv", "training {\n  epoch: 3\n}\n"));
  CommandResult r = RunCommand(TesseraRun() + " --servers 1 --workers 1 -- train --config " + config);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find(config + ":5:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("no field named \"epoch\""), std::string::npos) << r.output;
}

TEST_F(ErrorTest, BadConfigValueNamesTheField) {
  std::string config = dir_ + "/job.pbtxt";
  WriteFile(config, JobText(dir_ + "/train.tsv", "training { epochs: 0 }\n"));
  CommandResult r = RunCommand(TesseraBin() + " train --config " + config);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("training.epochs must be at least 1"), std::string::npos) << r.output;
}

TEST_F(ErrorTest, UnreachableServerIsNamedAndTheJobEnds) {
  WriteFile(dir_ + "/job.pbtxt", JobText(dir_ + "/train.tsv"));
  CommandResult r = RunCommand(TesseraRun() + " --servers 2 --workers 1 -- train --config " + dir_ +
                            "/job.pbtxt --connect_timeout_ms 2000 --fault_unreachable_server 1",
                        120);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.exit_code, 124) << "the job hung until the test's time limit";
  EXPECT_NE(r.output.find("server 1 (rank 2 on host"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("tcp://127.0.0.1:1"), std::string::npos) << r.output;
}

TEST_F(ErrorTest, ARankThatFailsToStartEndsTheJob) {
  std::string job = " --config " + dir_ + "/job.pbtxt --connect_timeout_ms 5000";
  WriteFile(dir_ + "/job.pbtxt", JobText(dir_ + "/train.tsv"));
  std::string root = getuid() == 0 ? " --allow-run-as-root" : "";
  CommandResult r = RunCommand("mpirun --stdin none --oversubscribe --mca pml ob1 --mca btl self,vader" + root +
                            " -np 1 " + TesseraBin() + " scheduler" + job + " : -np 1 " +
                            TesseraBin() + " server" + job + " : -np 1 " + TesseraBin() +
                            " worker --config /nonexistent.pbtxt",
                        120);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.exit_code, 124) << "the job hung until the test's time limit";
  EXPECT_NE(r.output.find("/nonexistent.pbtxt"), std::string::npos) << r.output;
}

TEST_F(ErrorTest, MissingTrainingFileIsNamed) {
  WriteFile(dir_ + "/job.pbtxt", JobText(dir_ + "/no-such-file.tsv"));
  CommandResult r = RunCommand(TesseraRun() + " --servers 1 --workers 1 -- train --config " + dir_ +
                        "/job.pbtxt", 120);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.exit_code, 124);
  EXPECT_NE(r.output.find("no-such-file.tsv"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace tessera::testing
