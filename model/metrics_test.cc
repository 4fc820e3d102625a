#include "model/metrics.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace tessera::model
