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

// Collects (prediction, label) pairs; the metrics are computed on demand over all
// of them. The order of Add calls changes AUC not at all and the means only in
// their last bits (double summation order).
class MetricsAccumulator {
 public:
  // Appends the pairs (predictions[i], labels[i]); the spans must be equally long.
  void Add(std::span<const float> predictions, std::span<const float> labels);

  int64_t count() const { return static_cast<int64_t>(predictions_.size()); }
  // Examples whose label is > 0.5.
  int64_t positives() const { return positives_; }

  double Auc() const { return model::Auc(predictions_, labels_); }
  double LogLoss() const { return model::LogLoss(predictions_, labels_); }
  double Calibration() const { return model::Calibration(predictions_, labels_); }
  double Accuracy() const { return model::Accuracy(predictions_, labels_); }
  double Rmse() const { return model::Rmse(predictions_, labels_); }
  double Mae() const { return model::Mae(predictions_, labels_); }

 private:
  std::vector<float> predictions_;
  std::vector<float> labels_;
  int64_t positives_ = 0;
};

}  // namespace tessera::model
