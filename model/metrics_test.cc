#include "model/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <span>

#include <cmath>
#include <vector>

namespace tessera::model {
namespace {

TEST(AucTest, PerfectRankingIsOne) {
  EXPECT_DOUBLE_EQ(Auc(std::vector<float>{0.1f, 0.2f, 0.8f, 0.9f}, std::vector<float>{0, 0, 1, 1}),
                   1.0);
}

TEST(AucTest, ReversedRankingIsZero) {
  EXPECT_DOUBLE_EQ(Auc(std::vector<float>{0.9f, 0.8f, 0.2f, 0.1f}, std::vector<float>{0, 0, 1, 1}),
                   0.0);
}

TEST(AucTest, HandComputedCase) {
  // Of the 4 (positive, negative) pairs, 3 are ordered correctly.
  EXPECT_DOUBLE_EQ(Auc(std::vector<float>{0.1f, 0.4f, 0.35f, 0.8f}, std::vector<float>{0, 0, 1, 1}),
                   0.75);
}

TEST(AucTest, TiesCountHalf) {
  EXPECT_DOUBLE_EQ(Auc(std::vector<float>(6, 0.3f), std::vector<float>{1, 0, 1, 0, 0, 1}), 0.5);
  // Pairs (0.5+, 0.5-) half, the other three correct: 3.5 / 4.
  EXPECT_DOUBLE_EQ(Auc(std::vector<float>{0.5f, 0.5f, 0.2f, 0.9f}, std::vector<float>{1, 0, 0, 1}),
                   0.875);
}

TEST(AucTest, NaNWithoutBothClassesOrWithNaNPredictions) {
  EXPECT_TRUE(std::isnan(Auc(std::vector<float>{0.1f, 0.7f}, std::vector<float>{1, 1})));
  EXPECT_TRUE(std::isnan(Auc(std::vector<float>{0.1f, 0.7f}, std::vector<float>{0, 0})));
  EXPECT_TRUE(std::isnan(Auc(std::vector<float>{}, std::vector<float>{})));
  EXPECT_TRUE(std::isnan(Auc(std::vector<float>{0.1f, NAN}, std::vector<float>{0, 1})));
}

TEST(LogLossTest, MeanCrossEntropy) {
  EXPECT_NEAR(LogLoss(std::vector<float>{0.9f, 0.2f}, std::vector<float>{1, 0}),
              -(std::log(0.9) + std::log(0.8)) / 2, 1e-7);
}

TEST(LogLossTest, ClipsCertainPredictions) {
  EXPECT_NEAR(LogLoss(std::vector<float>{1.0f}, std::vector<float>{0}), -std::log(kLogLossEpsilon),
              1e-9);
  EXPECT_NEAR(LogLoss(std::vector<float>{0.0f}, std::vector<float>{1}), -std::log(kLogLossEpsilon),
              1e-9);
  EXPECT_TRUE(std::isnan(LogLoss(std::vector<float>{}, std::vector<float>{})));
}

TEST(CalibrationTest, MeanPredictionOverMeanLabel) {
  EXPECT_DOUBLE_EQ(Calibration(std::vector<float>{0.25f, 0.5f}, std::vector<float>{0, 1}), 0.75);
  EXPECT_TRUE(std::isnan(Calibration(std::vector<float>{0.25f}, std::vector<float>{0})));
}

TEST(MetricsAccumulatorTest, CollectsFromSeveralSources) {
  MetricsAccumulator acc;
  acc.Add(std::vector<float>{0.1f, 0.4f}, std::vector<float>{0, 0});
  acc.Add(std::vector<float>{}, std::vector<float>{});
  acc.Add(std::vector<float>{0.35f, 0.8f}, std::vector<float>{1, 1});
  EXPECT_EQ(acc.count(), 4);
  EXPECT_EQ(acc.positives(), 2);
  EXPECT_DOUBLE_EQ(acc.Auc(), 0.75);
  std::vector<float> p = {0.1f, 0.4f, 0.35f, 0.8f}, y = {0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(acc.LogLoss(), LogLoss(p, y));
  EXPECT_DOUBLE_EQ(acc.Calibration(), Calibration(p, y));
}

TEST(MetricsAccumulatorTest, EmptyGivesNaN) {
  MetricsAccumulator acc;
  EXPECT_EQ(acc.count(), 0);
  EXPECT_EQ(acc.positives(), 0);
  EXPECT_TRUE(std::isnan(acc.Auc()));
  EXPECT_TRUE(std::isnan(acc.LogLoss()));
  EXPECT_TRUE(std::isnan(acc.Calibration()));
}

TEST(AccuracyTest, CountsPredictionsOnTheLabelsSide) {
  EXPECT_DOUBLE_EQ(Accuracy(std::vector<float>{0.9f, 0.2f, 0.6f, 0.5f},
                            std::vector<float>{1, 0, 0, 1}),
                   0.5);  // 0.5 is not above 0.5: predicted negative
  EXPECT_TRUE(std::isnan(Accuracy(std::vector<float>{}, std::vector<float>{})));
}

TEST(RegressionMetricsTest, RmseAndMaeByHand) {
  std::vector<float> p = {3.5f, 2.0f, 5.0f}, y = {4, 2, 3};
  // errors -0.5, 0, 2: squared 0.25 + 0 + 4 = 4.25 over 3; absolute 2.5 over 3
  EXPECT_DOUBLE_EQ(Rmse(p, y), std::sqrt(4.25 / 3));
  EXPECT_DOUBLE_EQ(Mae(p, y), 2.5 / 3);
  EXPECT_TRUE(std::isnan(Rmse(std::vector<float>{}, std::vector<float>{})));
  MetricsAccumulator acc;
  acc.Add(std::vector<float>{3.5f}, std::vector<float>{4});
  acc.Add(std::vector<float>{2.0f, 5.0f}, std::vector<float>{2, 3});
  EXPECT_DOUBLE_EQ(acc.Rmse(), Rmse(p, y));
  EXPECT_DOUBLE_EQ(acc.Mae(), Mae(p, y));
}

TEST(TopKMetricsTest, HitAndNdcgOfOneHeldOutItem) {
  EXPECT_EQ(HitAtK(0, 10), 1.0);
  EXPECT_EQ(HitAtK(9, 10), 1.0);
  EXPECT_EQ(HitAtK(10, 10), 0.0);
  EXPECT_EQ(NdcgAtK(0, 10), 1.0);
  EXPECT_DOUBLE_EQ(NdcgAtK(1, 10), 1.0 / std::log2(3.0));
  EXPECT_DOUBLE_EQ(NdcgAtK(9, 10), 1.0 / std::log2(11.0));
  EXPECT_EQ(NdcgAtK(10, 10), 0.0);
}

TEST(MetricsAccumulatorTest, PastTheExactLimitAucIsAHistogramApproximation) {
  // 20000 scored examples whose positives score higher on average.
  std::vector<float> p, y;
  uint64_t state = 1;
  auto uniform = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<float>((state >> 40) * (1.0 / (1ULL << 24)));
  };
  for (int i = 0; i < 20000; ++i) {
    const bool positive = uniform() < 0.3f;
    y.push_back(positive ? 1.0f : 0.0f);
    p.push_back(std::min(0.999f, 0.6f * uniform() + (positive ? 0.3f : 0.0f)));
  }
  MetricsAccumulator exact;
  MetricsAccumulator approximate(/*exact_auc_limit=*/5000);
  for (int i = 0; i < 20000; i += 1000) {
    std::span<const float> ps(p.data() + i, 1000), ys(y.data() + i, 1000);
    exact.Add(ps, ys);
    approximate.Add(ps, ys);
  }
  EXPECT_FALSE(exact.approximate_auc());
  EXPECT_TRUE(approximate.approximate_auc());
  EXPECT_EQ(exact.count(), 20000);
  EXPECT_EQ(approximate.count(), 20000);
  EXPECT_NEAR(approximate.Auc(), exact.Auc(), 1e-3);
  EXPECT_NE(approximate.Auc(), 0.5);
  // The running means are exact either way.
  EXPECT_DOUBLE_EQ(approximate.LogLoss(), exact.LogLoss());
  EXPECT_DOUBLE_EQ(approximate.Calibration(), exact.Calibration());
  EXPECT_DOUBLE_EQ(approximate.Accuracy(), exact.Accuracy());
  EXPECT_DOUBLE_EQ(exact.LogLoss(), LogLoss(p, y));
  EXPECT_DOUBLE_EQ(exact.Auc(), Auc(p, y));
}

TEST(MetricsAccumulatorTest, HistogramTiesCountHalf) {
  MetricsAccumulator acc(/*exact_auc_limit=*/0);
  // One positive and one negative with the same score, one negative below.
  acc.Add(std::vector<float>{0.5f, 0.5f, 0.1f}, std::vector<float>{1, 0, 0});
  ASSERT_TRUE(acc.approximate_auc());
  EXPECT_DOUBLE_EQ(acc.Auc(), (0.5 + 1.0) / 2.0);
}

}  // namespace
}  // namespace tessera::model
