// `tessera split`: cuts a MovieLens-style ratings file into DIR/train and DIR/test
// (io/split.h), randomly or leaving each user's latest positive out, and prints the
// counts.
#include <gflags/gflags.h>

#include <iostream>

#include "cmd/commands.h"
#include "io/file_util.h"
#include "io/split.h"

DEFINE_string(ratings, "",
              "split: ratings file, 'user item rating timestamp' separated by tabs/spaces "
              "(u.data) or '::' (ratings.dat); plain or gzip. Required.");
DEFINE_string(mode, "random",
              "split: 'random' (each line to test with probability --test_fraction) or "
              "'leave_last_out' (each user's latest positive to test).");
DEFINE_double(test_fraction, 0.2, "split --mode random: the expected fraction of test lines.");
DEFINE_double(positive_threshold, 4,
              "split --mode leave_last_out: ratings at or above it are positives.");
DECLARE_string(out);
DECLARE_uint64(seed);

namespace tessera::cmd {
namespace {

StatusOr<io::SplitOptions> SplitOptionsFromFlags() {
  io::SplitOptions options;
  if (FLAGS_mode == "random") {
    options.mode = io::SplitOptions::Mode::kRandom;
  } else if (FLAGS_mode == "leave_last_out") {
    options.mode = io::SplitOptions::Mode::kLeaveLastOut;
  } else {
    return Status::InvalidArgument("--mode must be random or leave_last_out, got '" + FLAGS_mode +
                                   "'");
  }
  if (!(FLAGS_test_fraction >= 0 && FLAGS_test_fraction <= 1)) {
    return Status::InvalidArgument("--test_fraction must be in [0, 1]");
  }
  options.test_fraction = FLAGS_test_fraction;
  options.seed = FLAGS_seed;
  options.positive_threshold = static_cast<float>(FLAGS_positive_threshold);
  return options;
}

}  // namespace

int RunSplit() {
  if (FLAGS_ratings.empty() || FLAGS_out.empty()) {
    std::cerr << "tessera split: --ratings FILE and --out DIR are required\n";
    return 2;
  }
  StatusOr<io::SplitOptions> options = SplitOptionsFromFlags();
  if (!options.ok()) {
    std::cerr << "tessera split: " << options.status().message() << "\n";
    return 2;
  }
  if (options->mode == io::SplitOptions::Mode::kLeaveLastOut) {
    options->train_positives_path = FLAGS_out + "/train_positive";
  }
  Status made = io::CreateDirectories(FLAGS_out);
  StatusOr<io::SplitCounts> counts =
      made.ok()
          ? io::SplitRatings(FLAGS_ratings, FLAGS_out + "/train", FLAGS_out + "/test", *options)
          : StatusOr<io::SplitCounts>(made);
  if (!counts.ok()) {
    std::cerr << "tessera split: " << counts.status().ToString() << std::endl;
    return 1;
  }
  std::cout << FLAGS_out << "/train: " << counts->train_lines << " lines, " << FLAGS_out
            << "/test: " << counts->test_lines << " lines (" << counts->users << " users)";
  if (!options->train_positives_path.empty()) {
    std::cout << "; " << options->train_positives_path << ": " << counts->train_positive_lines
              << " lines";
  }
  std::cout << std::endl;
  return 0;
}

}  // namespace tessera::cmd
