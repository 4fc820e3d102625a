// `tessera export` through the real binary: a DeepFM job trained under mpirun with a
// checkpoint, exported at each precision and pruned, each export scored with
// `tessera predict` against the checkpoint; corrupt input and bad flags are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "tests/test_util.h"

namespace tessera::testing {
namespace {

class ExportTest : public ::testing::Test {
 protected:
  // One training run for the suite: 2 servers, 2 workers, 2 epochs, checkpoints.
  static void SetUpTestSuite() {
    dir_ = new std::string(MakeTempDir("export"));
    CommandResult gen = RunCommand(TesseraBin() + " gen-data --out " + *dir_ +
                                   " --train_lines 30000 --validation_lines 10000 --data_seed 5");
    ASSERT_EQ(gen.exit_code, 0) << gen.output;
    const std::string config = *dir_ + "/job.pbtxt";
    WriteFile(config, "data { train: \"" + *dir_ + "/train.tsv\" validation: \"" + *dir_ +
                          "/validation.tsv\" batch_size: 512 chunk_bytes: 1048576 }\n"
                          "model { kind: DEEPFM embedding_dim: 8 mlp_hidden: [16] }\n"
                          "training { epochs: 2 sparse_optimizer { learning_rate: 0.01 } }\n"
                          "cluster { dense_block_floats: 500 }\n"
                          "checkpoint { dir: \"" +
                          *dir_ + "/ckpt\" keep: 5 }\n");
    CommandResult train = RunCommand(TesseraRun() + " --servers 2 --workers 2 -- train --config " +
                                     config + " --model_dir " + *dir_ + "/model");
    ASSERT_EQ(train.exit_code, 0) << train.output;
  }
  static void TearDownTestSuite() {
    RunCommand("rm -rf " + *dir_);
    delete dir_;
  }
  void SetUp() override { out_ = MakeTempDir("export-out"); }
  void TearDown() override { RunCommand("rm -rf " + out_); }

  static std::string Checkpoint() { return *dir_ + "/ckpt/epoch-0002"; }
  static std::string Data(const std::string& name) { return *dir_ + "/" + name + ".tsv"; }

  CommandResult Export(const std::string& model, const std::string& flags) {
    return RunCommand(TesseraBin() + " export --checkpoint " + Checkpoint() + " --out " + out_ +
                      "/" + model + " " + flags);
  }
  // `tessera predict`'s output line ("... AUC 0.712345, logloss ...").
  CommandResult Predict(const std::string& model_dir, const std::string& data,
                        const std::string& predictions = "") {
    return RunCommand(TesseraBin() + " predict --model " + model_dir + " --data " + Data(data) +
                      (predictions.empty() ? "" : " --predictions_out " + predictions));
  }
  static double Auc(const CommandResult& predict) {
    size_t pos = predict.output.find("AUC ");
    return pos == std::string::npos ? NAN : std::atof(predict.output.c_str() + pos + 4);
  }
  static long long Bytes(const std::string& file) {
    return std::atoll(RunCommand("stat -c %s " + file).output.c_str());
  }

  static std::string* dir_;
  std::string out_;
};

std::string* ExportTest::dir_ = nullptr;

// On the training data every key is in the checkpoint, so the export's zero rows for
// missing keys never come into play: the scores are the checkpoint's, bit for bit.
TEST_F(ExportTest, Fp32ExportScoresExactlyAsTheCheckpoint) {
  CommandResult exported = Export("fp32", "");
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  CommandResult base = Predict(Checkpoint(), "train", out_ + "/base.txt");
  CommandResult fp32 = Predict(out_ + "/fp32", "train", out_ + "/fp32.txt");
  ASSERT_EQ(base.exit_code, 0) << base.output;
  ASSERT_EQ(fp32.exit_code, 0) << fp32.output;
  EXPECT_EQ(fp32.output, base.output);
  EXPECT_EQ(ReadFile(out_ + "/fp32.txt"), ReadFile(out_ + "/base.txt"));
  // On validation, keys never trained are zero rows in the export and initial values in
  // the checkpoint: the AUC moves, but little.
  double base_auc = Auc(Predict(Checkpoint(), "validation"));
  double fp32_auc = Auc(Predict(out_ + "/fp32", "validation"));
  EXPECT_GT(base_auc, 0.6);
  EXPECT_NEAR(fp32_auc, base_auc, 2e-3);
  // Weights only: the export is smaller than the checkpoint's weights plus state.
  long long ckpt_bytes = std::atoll(RunCommand("du -sb " + Checkpoint()).output.c_str());
  EXPECT_LT(Bytes(out_ + "/fp32/export-00000-of-00001.tsr") * 2, ckpt_bytes);
  CommandResult inspect = RunCommand(TesseraBin() + " inspect --dir " + out_ + "/fp32");
  EXPECT_EQ(inspect.exit_code, 0) << inspect.output;
  EXPECT_NE(inspect.output.find("export for serving"), std::string::npos) << inspect.output;
}

TEST_F(ExportTest, Fp16AndInt8ScoreCloseToFp32AndShrinkTheFile) {
  ASSERT_EQ(Export("fp32", "").exit_code, 0);
  CommandResult fp16 = Export("fp16", "--precision fp16");
  CommandResult int8 = Export("int8", "--precision int8");
  ASSERT_EQ(fp16.exit_code, 0) << fp16.output;
  ASSERT_EQ(int8.exit_code, 0) << int8.output;
  const double auc32 = Auc(Predict(out_ + "/fp32", "validation"));
  EXPECT_NEAR(Auc(Predict(out_ + "/fp16", "validation")), auc32, 2e-4);
  EXPECT_NEAR(Auc(Predict(out_ + "/int8", "validation")), auc32, 2e-3);
  // Rows of 9 floats and an 8-byte key: 44 bytes, 26 in fp16, 21 in int8.
  const double b32 = Bytes(out_ + "/fp32/export-00000-of-00001.tsr");
  EXPECT_LT(Bytes(out_ + "/fp16/export-00000-of-00001.tsr") / b32, 0.62);
  EXPECT_LT(Bytes(out_ + "/int8/export-00000-of-00001.tsr") / b32, 0.50);
}

TEST_F(ExportTest, PrunedExportsDropRowsAndStillScore) {
  CommandResult untouched = Export("untouched", "--prune_untouched");
  ASSERT_EQ(untouched.exit_code, 0) << untouched.output;
  EXPECT_NE(untouched.output.find("never updated"), std::string::npos) << untouched.output;
  CommandResult norm = Export("norm", "--prune_norm_below 0.05 --precision fp16");
  ASSERT_EQ(norm.exit_code, 0) << norm.output;
  CommandResult inspect = RunCommand(TesseraBin() + " inspect --dir " + out_ + "/norm");
  EXPECT_EQ(inspect.exit_code, 0) << inspect.output;
  EXPECT_NE(inspect.output.find("with L2 norm below 0.05 dropped"), std::string::npos)
      << inspect.output;
  ASSERT_EQ(Export("fp32", "").exit_code, 0);
  EXPECT_LT(Bytes(out_ + "/norm/export-00000-of-00001.tsr"),
            Bytes(out_ + "/fp32/export-00000-of-00001.tsr") / 2);
  const double auc = Auc(Predict(out_ + "/fp32", "validation"));
  EXPECT_NEAR(Auc(Predict(out_ + "/untouched", "validation")), auc, 1e-3);
  EXPECT_NEAR(Auc(Predict(out_ + "/norm", "validation")), auc, 0.02);
}

TEST_F(ExportTest, ACorruptCheckpointFileIsRefusedByName) {
  RunCommand("cp -r " + Checkpoint() + " " + out_ + "/ckpt");
  const std::string bad = out_ + "/ckpt/state-00001-of-00002.tsr";
  RunCommand("printf 'x' | dd of=" + bad + " bs=1 seek=64 conv=notrunc");
  CommandResult r = RunCommand(TesseraBin() + " export --checkpoint " + out_ + "/ckpt --out " +
                               out_ + "/m --precision int8");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(bad), std::string::npos) << r.output;
  EXPECT_NE(RunCommand("test -e " + out_ + "/m/MANIFEST").exit_code, 0);
}

TEST_F(ExportTest, BadFlagsAreNamed) {
  CommandResult precision = Export("m", "--precision fp8");
  EXPECT_EQ(precision.exit_code, 2) << precision.output;
  EXPECT_NE(precision.output.find("--precision 'fp8'"), std::string::npos) << precision.output;
  CommandResult norm = Export("m", "--prune_norm_below -1");
  EXPECT_EQ(norm.exit_code, 2) << norm.output;
  EXPECT_NE(norm.output.find("--prune_norm_below"), std::string::npos) << norm.output;
  CommandResult missing = RunCommand(TesseraBin() + " export --out " + out_ + "/m");
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("--checkpoint"), std::string::npos) << missing.output;
  CommandResult absent =
      RunCommand(TesseraBin() + " export --checkpoint " + out_ + "/nothing --out " + out_ + "/m");
  EXPECT_EQ(absent.exit_code, 1) << absent.output;
  EXPECT_NE(absent.output.find(out_ + "/nothing/MANIFEST"), std::string::npos) << absent.output;
}

TEST_F(ExportTest, ANonEmptyOutIsRefusedUnlessForced) {
  RunCommand("mkdir -p " + out_ + "/m && touch " + out_ + "/m/notes.txt");
  CommandResult refused = Export("m", "");
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("--out " + out_ + "/m exists and is not empty"), std::string::npos)
      << refused.output;
  CommandResult forced = Export("m", "--force");
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_EQ(Predict(out_ + "/m", "validation").exit_code, 0);
  CommandResult onto_itself = RunCommand(TesseraBin() + " export --checkpoint " + Checkpoint() +
                                         " --out " + Checkpoint() + " --force");
  EXPECT_EQ(onto_itself.exit_code, 2) << onto_itself.output;
}

}  // namespace
}  // namespace tessera::testing
