// The data formats of issue 3 end to end: LR trains through real mpirun (1 scheduler,
// 2 servers, 2 workers) on libsvm and on schema-CSV files made from generated Criteo
// lines, and learns; a malformed CSV line is reported as file:line and skipped; a bad
// CSV schema stops the job with one line naming the field.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_util.h"

namespace tessera::testing {
namespace {

std::vector<std::string> SplitTabs(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, '\t')) fields.push_back(field);
  if (!line.empty() && line.back() == '\t') fields.push_back("");
  return fields;
}

// A Criteo line as libsvm: each present categorical becomes index (field << 32 | hex id).
std::string ToLibsvm(const std::vector<std::string>& f) {
  std::string line = f[0] == "1" ? "+1" : "-1";
  for (int c = 0; c < 26; ++c) {
    const std::string& id = f[14 + c];
    if (id.empty()) continue;
    const unsigned long long index =
        (static_cast<unsigned long long>(c) << 32) | std::strtoull(id.c_str(), nullptr, 16);
    line += " " + std::to_string(index) + ":1";
  }
  return line;
}

// A Criteo line as CSV: label, 13 integers, 26 categoricals.
std::string ToCsv(const std::vector<std::string>& f) {
  std::string line;
  for (size_t i = 0; i < f.size(); ++i) line += (i ? "," : "") + f[i];
  return line;
}

// Converts a Criteo TSV file; `header` goes first when not empty. Every line of the
// generated data has 40 fields.
void Convert(const std::string& from, const std::string& to,
             std::string (*convert)(const std::vector<std::string>&), const std::string& header) {
  std::ifstream in(from);
  std::ofstream out(to);
  if (!header.empty()) out << header << "\n";
  std::string line;
  while (std::getline(in, line)) out << convert(SplitTabs(line)) << "\n";
}

std::string CsvSchema() {
  std::string schema = "csv { delimiter: ',' header: true column { name: 'label' role: LABEL }";
  for (int i = 1; i <= 13; ++i) {
    schema += " column { name: 'i" + std::to_string(i) + "' role: DENSE log1p: true }";
  }
  for (int c = 1; c <= 26; ++c) {
    schema += " column { name: 'c" + std::to_string(c) + "' role: CATEGORICAL }";
  }
  return schema + " }";
}

std::string CsvHeader() {
  std::string header = "label";
  for (int i = 1; i <= 13; ++i) header += ",i" + std::to_string(i);
  for (int c = 1; c <= 26; ++c) header += ",c" + std::to_string(c);
  return header;
}

class FormatsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(MakeTempDir("formats-data"));
    CommandResult gen = RunCommand(TesseraBin() + " gen-data --out " + *dir_ +
                                   " --train_lines 20000 --validation_lines 5000 --data_seed 3");
    ASSERT_EQ(gen.exit_code, 0) << gen.output;
    for (const char* part : {"train", "validation"}) {
      const std::string tsv = *dir_ + "/" + part + ".tsv";
      Convert(tsv, *dir_ + "/" + part + ".svm", ToLibsvm, "");
      Convert(tsv, *dir_ + "/" + part + ".csv", ToCsv, CsvHeader());
    }
    // One malformed line, line 101 of train.csv (after the header and 99 examples).
    std::string csv = ReadFile(*dir_ + "/train.csv");
    size_t at = 0;
    for (int i = 0; i < 100; ++i) at = csv.find('\n', at) + 1;
    csv.insert(at, "1,abc" + std::string(38, ',') + "\n");
    WriteFile(*dir_ + "/train.csv", csv);
  }
  static void TearDownTestSuite() {
    RunCommand("rm -rf " + *dir_);
    delete dir_;
  }

  // Trains LR for one epoch on DIR/train.<ext>, validating on DIR/validation.<ext>.
  static CommandResult Train(const std::string& ext, const std::string& data_options,
                             const std::string& job_dir) {
    WriteFile(job_dir + "/job.pbtxt", "data { train: \"" + *dir_ + "/train." + ext +
                                          "\" validation: \"" + *dir_ + "/validation." + ext +
                                          "\" batch_size: 256 chunk_bytes: 262144 " + data_options +
                                          " }\n"
                                          "model { kind: LR }\n"
                                          "training { epochs: 1 seed: 5\n"
                                          "  sparse_optimizer { kind: ADAM learning_rate: 0.01 }\n"
                                          "  dense_optimizer { kind: ADAM learning_rate: 0.01 } }\n"
                                          "output { model_dir: \"" +
                                          job_dir + "/model\" }\n");
    return RunCommand(
        TesseraRun() + " --servers 2 --workers 2 -- train --config " + job_dir + "/job.pbtxt", 120);
  }

  static std::string* dir_;
};

std::string* FormatsTest::dir_ = nullptr;

TEST_F(FormatsTest, LrLearnsFromLibsvm) {
  const std::string job = MakeTempDir("formats-libsvm");
  CommandResult r = Train("svm", "format: LIBSVM", job);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string metrics = ReadFile(job + "/model/metrics.jsonl");
  EXPECT_EQ(JsonField(metrics, "train_examples"), "20000") << metrics;
  EXPECT_EQ(JsonField(metrics, "validation_examples"), "5000") << metrics;
  const double auc = std::atof(JsonField(metrics, "auc").c_str());
  EXPECT_GT(auc, 0.6) << metrics;
  std::printf("libsvm: validation AUC %.4f in %.1f s\n", auc, r.seconds);
  RunCommand("rm -rf " + job);
}

TEST_F(FormatsTest, LrLearnsFromCsvAndSkipsAMalformedLineNamingIt) {
  const std::string job = MakeTempDir("formats-csv");
  CommandResult r = Train("csv", "format: CSV " + CsvSchema(), job);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(*dir_ + "/train.csv:101: column[1] 'i1': value 'abc' is not "
                                  "a number"),
            std::string::npos)
      << r.output;
  const std::string metrics = ReadFile(job + "/model/metrics.jsonl");
  EXPECT_EQ(JsonField(metrics, "train_examples"), "20000") << metrics;  // the header is no example
  EXPECT_EQ(JsonField(metrics, "bad_lines"), "1") << metrics;
  EXPECT_EQ(JsonField(metrics, "validation_examples"), "5000") << metrics;
  const double auc = std::atof(JsonField(metrics, "auc").c_str());
  EXPECT_GT(auc, 0.6) << metrics;
  std::printf("csv: validation AUC %.4f in %.1f s\n", auc, r.seconds);
  RunCommand("rm -rf " + job);
}

TEST_F(FormatsTest, ABadCsvSchemaIsAOneLineErrorNamingTheField) {
  const std::string job = MakeTempDir("formats-bad-schema");
  CommandResult r = Train("csv",
                          "format: CSV csv { column { role: LABEL } column { role: MULTI_HOT "
                          "separator: '' } }",
                          job);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("data.csv.column[1].separator must not be empty"), std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("Abort"), std::string::npos) << r.output;  // no crash, no MPI_Abort
  RunCommand("rm -rf " + job);
}

}  // namespace
}  // namespace tessera::testing
