#include "model/metrics.h"

#include <glog/logging.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>

namespace tessera::model {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool IsPositive(float label) { return label > 0.5f; }

// Sum of the 1-based ranks of the positives, ties at their average rank;
// `order` sorts the predictions ascending.
double PositiveRankSum(std::span<const float> predictions, std::span<const float> labels,
                       const std::vector<int64_t>& order) {
  const int64_t n = static_cast<int64_t>(order.size());
  double rank_sum = 0.0;
  for (int64_t begin = 0; begin < n;) {
    int64_t end = begin + 1;
    while (end < n && predictions[order[end]] == predictions[order[begin]]) ++end;
    // Ranks begin+1 .. end share their mean; sums of halves are exact in double.
    const double average_rank = 0.5 * static_cast<double>(begin + 1 + end);
    for (int64_t i = begin; i < end; ++i) {
      if (IsPositive(labels[order[i]])) rank_sum += average_rank;
    }
    begin = end;
  }
  return rank_sum;
}

}  // namespace

double Auc(std::span<const float> predictions, std::span<const float> labels) {
  CHECK_EQ(predictions.size(), labels.size());
  const auto positives = std::count_if(labels.begin(), labels.end(), IsPositive);
  const auto negatives = static_cast<int64_t>(labels.size()) - positives;
  if (positives == 0 || negatives == 0) return kNaN;
  // NaN breaks the strict weak order std::sort needs.
  if (std::any_of(predictions.begin(), predictions.end(), [](float p) { return std::isnan(p); })) {
    return kNaN;
  }
  std::vector<int64_t> order(predictions.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](int64_t a, int64_t b) { return predictions[a] < predictions[b]; });
  const double p = static_cast<double>(positives);
  const double u = PositiveRankSum(predictions, labels, order) - p * (p + 1.0) / 2.0;
  return u / (p * static_cast<double>(negatives));
}

namespace {

MetricSums SumsOf(std::span<const float> predictions, std::span<const float> labels) {
  CHECK_EQ(predictions.size(), labels.size());
  MetricSums sums;
  for (size_t i = 0; i < predictions.size(); ++i) sums.Add(predictions[i], labels[i]);
  return sums;
}

}  // namespace

double LogLoss(std::span<const float> predictions, std::span<const float> labels) {
  return SumsOf(predictions, labels).LogLoss();
}

double Calibration(std::span<const float> predictions, std::span<const float> labels) {
  return SumsOf(predictions, labels).Calibration();
}

double Accuracy(std::span<const float> predictions, std::span<const float> labels) {
  return SumsOf(predictions, labels).Accuracy();
}

double Rmse(std::span<const float> predictions, std::span<const float> labels) {
  return SumsOf(predictions, labels).Rmse();
}

double Mae(std::span<const float> predictions, std::span<const float> labels) {
  return SumsOf(predictions, labels).Mae();
}

void MetricSums::Add(float pred, float y) {
  const double p = std::clamp<double>(pred, kLogLossEpsilon, 1.0 - kLogLossEpsilon);
  log_loss -= y * std::log(p) + (1.0 - y) * std::log(1.0 - p);
  prediction += pred;
  label += y;
  right += (pred > 0.5f) == IsPositive(y);
  const double d = static_cast<double>(pred) - y;
  squared_error += d * d;
  abs_error += std::abs(d);
  positives += IsPositive(y);
  has_nan |= std::isnan(pred);
  ++count;
}

double MetricSums::LogLoss() const { return count ? log_loss / static_cast<double>(count) : kNaN; }

double MetricSums::Calibration() const {
  return count && label > 0.0 ? prediction / label : kNaN;
}

double MetricSums::Accuracy() const {
  return count ? static_cast<double>(right) / static_cast<double>(count) : kNaN;
}

double MetricSums::Rmse() const {
  return count ? std::sqrt(squared_error / static_cast<double>(count)) : kNaN;
}

double MetricSums::Mae() const { return count ? abs_error / static_cast<double>(count) : kNaN; }

double HitAtK(int64_t rank, int k) { return rank >= 0 && rank < k ? 1.0 : 0.0; }

double NdcgAtK(int64_t rank, int k) {
  return rank >= 0 && rank < k ? 1.0 / std::log2(static_cast<double>(rank) + 2.0) : 0.0;
}

namespace {

constexpr int kHistogramBits = 20;

// Buckets ascending with the float's value: the IEEE bits made monotone (negatives
// flipped), their top kHistogramBits bits.
uint32_t Bucket(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  bits = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
  return bits >> (32 - kHistogramBits);
}

}  // namespace

void MetricsAccumulator::Add(std::span<const float> predictions, std::span<const float> labels) {
  CHECK_EQ(predictions.size(), labels.size());
  for (size_t i = 0; i < predictions.size(); ++i) sums_.Add(predictions[i], labels[i]);
  if (!approximate_auc() && sums_.count > exact_auc_limit_) StartHistogram();
  if (approximate_auc()) {
    for (size_t i = 0; i < predictions.size(); ++i) AddToHistogram(predictions[i], labels[i]);
  } else {
    predictions_.insert(predictions_.end(), predictions.begin(), predictions.end());
    labels_.insert(labels_.end(), labels.begin(), labels.end());
  }
}

void MetricsAccumulator::StartHistogram() {
  positive_histogram_.assign(size_t{1} << kHistogramBits, 0);
  negative_histogram_.assign(size_t{1} << kHistogramBits, 0);
  for (size_t i = 0; i < predictions_.size(); ++i) AddToHistogram(predictions_[i], labels_[i]);
  std::vector<float>().swap(predictions_);
  std::vector<float>().swap(labels_);
}

void MetricsAccumulator::AddToHistogram(float prediction, float label) {
  (IsPositive(label) ? positive_histogram_ : negative_histogram_)[Bucket(prediction)] += 1;
}

double MetricsAccumulator::Auc() const {
  if (!approximate_auc()) return model::Auc(predictions_, labels_);
  const int64_t negatives = sums_.count - sums_.positives;
  if (sums_.positives == 0 || negatives == 0 || sums_.has_nan) return kNaN;
  double pairs = 0.0, below = 0.0;
  for (size_t b = 0; b < positive_histogram_.size(); ++b) {
    const double pos = static_cast<double>(positive_histogram_[b]);
    const double neg = static_cast<double>(negative_histogram_[b]);
    pairs += pos * (below + 0.5 * neg);
    below += neg;
  }
  return pairs / (static_cast<double>(sums_.positives) * static_cast<double>(negatives));
}

std::string MetricsAccumulator::Describe(bool value_predictions) const {
  char text[160];
  if (value_predictions) {
    std::snprintf(text, sizeof(text), "RMSE %.6f, MAE %.6f", Rmse(), Mae());
  } else {
    std::snprintf(text, sizeof(text), "AUC %.6f, logloss %.6f, accuracy %.4f, calibration %.4f",
                  Auc(), LogLoss(), Accuracy(), Calibration());
  }
  return text;
}

}  // namespace tessera::model
