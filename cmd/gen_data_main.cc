// `tessera gen-data`: the deterministic synthetic Criteo-format dataset that the
// quick start, the tests and the benchmarks train on.
#include <sys/stat.h>

#include <cstdio>
#include <iostream>

#include <gflags/gflags.h>

#include "cmd/commands.h"
#include "io/synthetic.h"

DEFINE_string(out, "",
              "Output directory (gen-data: train.tsv and validation.tsv; split: train and test; "
              "export: the model for serving). Required.");
DEFINE_int64(train_lines, 1000000, "Training lines to write.");
DEFINE_int64(validation_lines, 100000, "Validation lines to write (0: none).");
DEFINE_uint64(data_seed, 1, "Seed of the hidden teacher model and of the examples.");

namespace tessera::cmd {

int RunGenData() {
  if (FLAGS_out.empty()) {
    std::cerr << "tessera gen-data: --out DIR is required (see tessera gen-data --help)\n";
    return 2;
  }
  if (FLAGS_train_lines < 1 || FLAGS_validation_lines < 0) {
    std::cerr << "tessera gen-data: --train_lines must be >= 1 and --validation_lines >= 0\n";
    return 2;
  }
  mkdir(FLAGS_out.c_str(), 0755);
  io::SyntheticOptions options;
  options.train_lines = FLAGS_train_lines;
  options.validation_lines = FLAGS_validation_lines;
  options.seed = FLAGS_data_seed;
  const std::string train = FLAGS_out + "/train.tsv";
  const std::string validation = FLAGS_validation_lines > 0 ? FLAGS_out + "/validation.tsv" : "";
  io::SyntheticReport report;
  Status s = io::GenerateCriteoDataset(options, train, validation, &report);
  if (!s.ok()) {
    std::cerr << "tessera gen-data: " << s.ToString() << "\n";
    return 1;
  }
  std::printf("wrote %s (%lld lines, CTR %.2f%%)", train.c_str(),
              static_cast<long long>(report.train_lines),
              100.0 * report.train_positives / std::max<int64_t>(1, report.train_lines));
  if (!validation.empty()) {
    std::printf(" and %s (%lld lines) in %.1f s\nteacher (Bayes-optimal) validation AUC: %.4f\n",
                validation.c_str(), static_cast<long long>(report.validation_lines),
                report.seconds, report.teacher_validation_auc);
  } else {
    std::printf(" in %.1f s\n", report.seconds);
  }
  return 0;
}

}  // namespace tessera::cmd
