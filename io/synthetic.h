// The synthetic Criteo-format dataset: what `tessera gen-data` writes, the embedded
// default data of the quick start, the benchmarks and the tests. Lines follow the Criteo
// TSV format exactly (io/criteo.h): label \t I1..I13 \t C1..C26, categoricals as 8
// lowercase hex digits, an empty field for a missing value, '\n' line ends.
//
// The labels come from a hidden teacher model, so that a learner's AUC can be judged
// against the best possible one (the teacher's, reported):
//   logit = b + sum_f w_f[id_f]                            main effects, all 26 fields
//             + sum_(f,g) in kPairs <u_f[id_f], u_g[id_g]>    a few field interactions
//             + sum_d a_d * log(1 + max(x_d, 0))           the integer features
//             + c * tanh(log(1 + x_I3) - 2) * s[id_C20]       one nonlinear term
//   label ~ Bernoulli(sigmoid(logit)).
// Every weight is a pseudo-random function of (seed, field, id), so nothing per id is
// stored; b is set by bisection on a separate calibration stream so that the CTR is
// about target_ctr. Ids are Zipf-popular per field, with cardinalities from 3 to 10^6
// (the Criteo Kaggle spread, capped; the table is in synthetic.cc), and most signal sits
// in the main effects of popular ids: logistic regression learns most of it, the pairs
// leave headroom for FM and DeepFM.
//
// Deterministic: the same options give byte-identical files on any machine. Randomness
// comes from xoshiro256** and splitmix64 seeded from `seed`, samplers are our own (alias
// tables, integer arithmetic), and every output byte is a discrete choice. Floating point
// (libm's pow, log1p, tanh, exp) enters only the alias tables' thresholds and the label
// draw u < sigmoid(logit): a last-bit difference between C libraries would change one
// draw with a probability of about 2^-32, never the format.
// Speed: about 2.2 s of one core per million lines (alias tables built in ~0.4 s).
// The training and validation files come from the same teacher and from two different
// example streams. Not thread-safe to share a call's arguments; otherwise stateless.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"

namespace tessera::io {

struct SyntheticOptions {
  int64_t train_lines = 1000000;
  int64_t validation_lines = 100000;  // 0: no validation file
  uint64_t seed = 1;                  // of the teacher and of both example streams
  double target_ctr = 0.25;           // the fraction of positive labels to aim for
  // Optional: called now and then (every 2^16 lines) and at the end with the lines
  // written so far over both files and the total to write.
  std::function<void(int64_t lines_done, int64_t lines_total)> progress;
};

struct SyntheticReport {
  int64_t train_lines = 0;
  int64_t validation_lines = 0;
  int64_t train_positives = 0;
  int64_t validation_positives = 0;
  // Exact AUC of the teacher's true probabilities on the validation lines: the best AUC
  // any model can expect. 0 when there is no validation file.
  double teacher_validation_auc = 0;
  double seconds = 0;  // wall time of the whole call
};

// Writes `train_path` and, when options.validation_lines > 0, `validation_path`. Each
// file appears whole under its name or not at all (written to a temporary name, then
// renamed; not fsync'ed: the data can be generated again). InvalidArgument for negative
// counts or a missing validation path; IOError naming the path when it cannot be written.
Status GenerateCriteoDataset(const SyntheticOptions& options, const std::string& train_path,
                             const std::string& validation_path, SyntheticReport* report);

}  // namespace tessera::io
