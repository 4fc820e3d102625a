// Evaluation metrics: of click predictions (exact AUC, log loss, accuracy,
// calibration; labels 0 or 1, an example is positive when its label is > 0.5), of
// value predictions such as ratings (RMSE, MAE), and of top-K rankings (HR@K,
// NDCG@K); and an accumulator that gathers (prediction, label) pairs from several
// sources (workers, batches) before computing them.
// The free functions are pure and thread-safe; a MetricsAccumulator is not
// thread-safe to mutate (one owner adds, anyone may read a const one).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tessera::model {

// Probabilities are clipped to [kLogLossEpsilon, 1 - kLogLossEpsilon], in double,
// before the log. 1e-7 rather than the 1e-15 of sklearn or the PyTorch reference:
// a float prediction is already exactly 1.0f from a logit of about 17 on, and a
// finer clip would only measure float rounding.
inline constexpr double kLogLossEpsilon = 1e-7;

// The area under the ROC curve, exact: the Mann-Whitney statistic with tied
// predictions given their average rank. NaN when either class is absent or a
// prediction is NaN. O(n log n).
double Auc(std::span<const float> predictions, std::span<const float> labels);

// Mean binary cross-entropy of clipped predictions; NaN for no examples.
double LogLoss(std::span<const float> predictions, std::span<const float> labels);

// Mean prediction / mean label: 1 is calibrated, above 1 over-predicts clicks.
// NaN for no examples or no positive label mass.
double Calibration(std::span<const float> predictions, std::span<const float> labels);

// Fraction of examples whose prediction is on the label's side of 0.5; NaN for none.
double Accuracy(std::span<const float> predictions, std::span<const float> labels);

// Root mean squared error and mean absolute error, in double; NaN for no examples.
double Rmse(std::span<const float> predictions, std::span<const float> labels);
double Mae(std::span<const float> predictions, std::span<const float> labels);

// Top-K metrics of one held-out item, given its 0-based rank among the candidates
// scored for its user (rank r means r candidates scored strictly higher). A test set's
// HR@K and NDCG@K are the means of these over its users.
//   HitAtK:  1 when rank < k, else 0.
//   NdcgAtK: 1 / log2(rank + 2) when rank < k, else 0 (one relevant item: IDCG = 1).
double HitAtK(int64_t rank, int k);
double NdcgAtK(int64_t rank, int k);

// The running sums behind every metric but AUC: the one place their per-example
// formulas live (the free functions above and MetricsAccumulator both use it).
struct MetricSums {
  int64_t count = 0;
  int64_t positives = 0;  // labels > 0.5
  int64_t right = 0;      // predictions on their label's side of 0.5
  bool has_nan = false;   // some prediction is NaN
  double log_loss = 0.0;
  double prediction = 0.0;
  double label = 0.0;
  double squared_error = 0.0;
  double abs_error = 0.0;

  void Add(float prediction, float label);
  double LogLoss() const;
  double Calibration() const;
  double Accuracy() const;
  double Rmse() const;
  double Mae() const;
};

// Collects (prediction, label) pairs from several sources and computes the metrics
// over all of them. Log loss, calibration, accuracy, RMSE and MAE are running sums
// (exact; the order of Add calls changes them only in their last bits). AUC is exact
// (every pair kept, O(n log n) at the end) up to `exact_auc_limit` examples; past
// that the pairs are folded into a histogram and the AUC is approximate: predictions
// are bucketed by their top 20 bits (sign, exponent and 11 mantissa bits: buckets
// 2^-11 of a value wide, ~1M of them), and a positive and a negative in one bucket
// count as a tie (half a pair). The error is at most half the fraction of
// positive-negative pairs that share a bucket: below 1e-3 for spread-out
// probabilities. Memory: 8 bytes per example up to the limit, then 16 MiB.
class MetricsAccumulator {
 public:
  static constexpr int64_t kDefaultExactAucLimit = int64_t{1} << 24;  // 16.8M examples

  explicit MetricsAccumulator(int64_t exact_auc_limit = kDefaultExactAucLimit)
      : exact_auc_limit_(exact_auc_limit) {}

  // Adds the pairs (predictions[i], labels[i]); the spans must be equally long.
  void Add(std::span<const float> predictions, std::span<const float> labels);

  int64_t count() const { return sums_.count; }
  // Examples whose label is > 0.5.
  int64_t positives() const { return sums_.positives; }
  // Whether AUC is the histogram approximation (more than exact_auc_limit examples).
  bool approximate_auc() const { return !positive_histogram_.empty(); }

  double Auc() const;
  double LogLoss() const { return sums_.LogLoss(); }
  double Calibration() const { return sums_.Calibration(); }
  double Accuracy() const { return sums_.Accuracy(); }
  double Rmse() const { return sums_.Rmse(); }
  double Mae() const { return sums_.Mae(); }

  // One line for logs: "AUC 0.750000, logloss 0.490000, accuracy 0.7800, calibration
  // 1.0100" for click predictions, "RMSE 0.910000, MAE 0.720000" for values.
  std::string Describe(bool value_predictions) const;

 private:
  // Moves the kept pairs into the histograms.
  void StartHistogram();
  void AddToHistogram(float prediction, float label);

  int64_t exact_auc_limit_;
  MetricSums sums_;
  // Exact AUC: every pair.
  std::vector<float> predictions_;
  std::vector<float> labels_;
  // Approximate AUC: counts per bucket.
  std::vector<int64_t> positive_histogram_;
  std::vector<int64_t> negative_histogram_;
};

}  // namespace tessera::model
