#include "io/row_encoding.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace tessera::io {
namespace {

uint16_t Half(float x) { return FloatToHalf(x); }
float Bits(uint32_t b) { return std::bit_cast<float>(b); }

TEST(HalfTest, ExactValuesConvertExactly) {
  EXPECT_EQ(Half(0.0f), 0x0000);
  EXPECT_EQ(Half(-0.0f), 0x8000);
  EXPECT_EQ(Half(1.0f), 0x3c00);
  EXPECT_EQ(Half(-2.0f), 0xc000);
  EXPECT_EQ(Half(0.5f), 0x3800);
  EXPECT_EQ(Half(65504.0f), 0x7bff);    // the largest half
  EXPECT_EQ(Half(0x1p-14f), 0x0400);    // the smallest normal half
  EXPECT_EQ(Half(0x1p-24f), 0x0001);    // the smallest subnormal half
  EXPECT_EQ(Half(0x3ffp-24f), 0x03ff);  // the largest subnormal half
  EXPECT_EQ(Half(-0x1p-24f), 0x8001);
}

TEST(HalfTest, RoundsToNearestTiesToEven) {
  // 1 + 2^-11 is half-way between 1 and 1 + 2^-10: ties to even (1).
  EXPECT_EQ(Half(1.0f + 0x1p-11f), 0x3c00);
  // 1 + 3 * 2^-11 is half-way between 1 + 2^-10 (odd) and 1 + 2^-9: up.
  EXPECT_EQ(Half(1.0f + 3 * 0x1p-11f), 0x3c02);
  // Just above the tie rounds up.
  EXPECT_EQ(Half(std::nextafter(1.0f + 0x1p-11f, 2.0f)), 0x3c01);
  // A carry out of the mantissa moves into the exponent: 2 - 2^-12 -> 2.
  EXPECT_EQ(Half(2.0f - 0x1p-12f), 0x4000);
}

TEST(HalfTest, SubnormalsRoundToNearestTiesToEven) {
  EXPECT_EQ(Half(0x1p-25f), 0x0000);                        // tie with 0: even
  EXPECT_EQ(Half(std::nextafter(0x1p-25f, 1.0f)), 0x0001);  // above the tie
  EXPECT_EQ(Half(0x1p-26f), 0x0000);
  EXPECT_EQ(Half(3 * 0x1p-25f), 0x0002);                              // 1.5 units: to 2
  EXPECT_EQ(Half(5 * 0x1p-25f), 0x0002);                              // 2.5 units: to 2
  EXPECT_EQ(Half(0x3ffp-24f + 0x1p-25f), 0x0400);                     // to the smallest normal
  EXPECT_EQ(Half(std::numeric_limits<float>::denorm_min()), 0x0000);  // float subnormal
  EXPECT_EQ(Half(-std::numeric_limits<float>::denorm_min()), 0x8000);
}

TEST(HalfTest, OverflowInfinityAndNaN) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(Half(65519.0f), 0x7bff);  // below the tie with 2^16
  EXPECT_EQ(Half(65520.0f), 0x7c00);  // the tie: to even, which is infinity
  EXPECT_EQ(Half(1e10f), 0x7c00);
  EXPECT_EQ(Half(-1e10f), 0xfc00);
  EXPECT_EQ(Half(inf), 0x7c00);
  EXPECT_EQ(Half(-inf), 0xfc00);
  const uint16_t nan = Half(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(nan & 0x7c00, 0x7c00);
  EXPECT_NE(nan & 0x03ff, 0);
  // A signalling NaN whose payload sits only in the low bits stays a NaN, not infinity.
  EXPECT_TRUE(std::isnan(HalfToFloat(Half(Bits(0x7f800001u)))));
  EXPECT_EQ(Half(Bits(0xffc00000u)) & 0x8000, 0x8000);
  EXPECT_TRUE(std::isinf(HalfToFloat(0x7c00)));
  EXPECT_TRUE(std::isnan(HalfToFloat(0x7e00)));
}

TEST(HalfTest, EveryHalfRoundTripsThroughFloat) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const float f = HalfToFloat(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(HalfToFloat(Half(f)))) << h;
      continue;
    }
    ASSERT_EQ(Half(f), h) << "half " << h << " -> " << f;
  }
  EXPECT_EQ(HalfToFloat(0x0001), 0x1p-24f);
  EXPECT_EQ(HalfToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(std::bit_cast<uint32_t>(HalfToFloat(0x8000)), 0x80000000u);
}

#ifdef __FLT16_MAX__
// The compiler's own conversion (IEEE, round to nearest even) as an oracle, over a
// sweep of float bit patterns that covers every exponent.
TEST(HalfTest, AgreesWithTheCompilersFloat16) {
  for (uint64_t b = 0; b <= 0xffffffffu; b += 997) {
    const float f = Bits(static_cast<uint32_t>(b));
    if (std::isnan(f)) continue;
    const _Float16 h = static_cast<_Float16>(f);
    ASSERT_EQ(Half(f), std::bit_cast<uint16_t>(h)) << "float bits " << b;
  }
}
#endif

TEST(Int8Test, ScaleIsMaxAbsOver127AndErrorAtMostHalfAStep) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.3f);
  std::vector<float> row(33), back(33);
  std::vector<int8_t> q(33);
  for (int trial = 0; trial < 100; ++trial) {
    for (float& x : row) x = normal(rng);
    row[trial % 33] = -1.5f;  // the largest magnitude, negative
    const float scale = QuantizeRowInt8(row, q);
    EXPECT_FLOAT_EQ(scale, 1.5f / 127.0f);
    EXPECT_EQ(q[trial % 33], -127);
    DequantizeRowInt8(scale, q, back);
    for (size_t i = 0; i < row.size(); ++i) {
      EXPECT_LE(std::fabs(back[i] - row[i]), scale * 0.5f * 1.0001f) << i;
    }
  }
}

TEST(Int8Test, AllZeroRowHasZeroScale) {
  std::vector<float> row(4, 0.0f), back(4, 1.0f);
  std::vector<int8_t> q(4, 5);
  EXPECT_EQ(QuantizeRowInt8(row, q), 0.0f);
  DequantizeRowInt8(0.0f, q, back);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(q[i], 0);
    EXPECT_EQ(back[i], 0.0f);
  }
}

// Encode then decode each encoding: f32 exact, f16 within half a unit in the last
// place, int8 within half a step; the byte counts are the documented ones.
TEST(RowEncodingTest, EncodedRowsDecodeBackInKeyOrder) {
  const int dim = 3;
  const std::vector<float> weights = {0.1f, -0.2f, 0.3f, 10.0f, 0.0f, -1e-6f};
  const std::vector<size_t> order = {1, 0};
  for (pb::SparseEncoding e : {pb::SPARSE_FP32, pb::SPARSE_FP16, pb::SPARSE_INT8}) {
    std::string bytes;
    AppendEncodedRows(e, dim, weights, order, &bytes);
    ASSERT_EQ(bytes.size(), 2 * EncodedRowBytes(e, dim)) << pb::SparseEncoding_Name(e);
    std::vector<float> decoded;
    ASSERT_TRUE(DecodeRows(e, dim, 2, bytes, &decoded).ok());
    const float tolerance = e == pb::SPARSE_FP32 ? 0.0f : e == pb::SPARSE_FP16 ? 1e-2f : 0.04f;
    for (size_t n = 0; n < order.size(); ++n) {
      for (int d = 0; d < dim; ++d) {
        const float want = weights[order[n] * dim + d];
        EXPECT_NEAR(decoded[n * dim + d], want, tolerance * std::max(1.0f, std::fabs(want)))
            << pb::SparseEncoding_Name(e) << " row " << n << " column " << d;
      }
    }
  }
  EXPECT_EQ(EncodedRowBytes(pb::SPARSE_FP32, 16), 64u);
  EXPECT_EQ(EncodedRowBytes(pb::SPARSE_FP16, 16), 32u);
  EXPECT_EQ(EncodedRowBytes(pb::SPARSE_INT8, 16), 20u);
}

TEST(RowEncodingTest, NegativeOrNonFiniteInt8ScaleIsCorruption) {
  for (float bad : {-1.0f, std::numeric_limits<float>::infinity()}) {
    std::string bytes(reinterpret_cast<const char*>(&bad), sizeof(bad));
    bytes.append(2, '\1');
    std::vector<float> decoded;
    Status s = DecodeRows(pb::SPARSE_INT8, 2, 1, bytes, &decoded);
    EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  }
}

}  // namespace
}  // namespace tessera::io
