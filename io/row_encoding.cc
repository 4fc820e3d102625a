#include "io/row_encoding.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace tessera::io {

namespace {

constexpr uint32_t kFloatInf = 0x7f800000u;
constexpr uint32_t kHalfInf = 0x7c00u;
// |x| >= 65520 (half-way between the largest half, 65504, and 2^16) rounds to infinity.
constexpr uint32_t kFloatRoundsToHalfInf = 0x477ff000u;
constexpr uint32_t kFloatSmallestNormalHalf = 0x38800000u;  // 2^-14
constexpr int kFloatExponentOfHalfUnit = 102;               // 2^-25: below it, zero

// A half of a float in the half's normal range: rebias the exponent (127 -> 15) and
// round the 23-bit mantissa to 10 bits, ties to even; a carry moves into the exponent.
uint16_t NormalHalf(uint32_t abs_bits) {
  const uint32_t rebiased = abs_bits - ((127u - 15u) << 23);
  const uint32_t lsb = (rebiased >> 13) & 1u;
  return static_cast<uint16_t>((rebiased + 0xfffu + lsb) >> 13);
}

// A half of a float below 2^-14: a multiple of 2^-24, rounded to nearest, ties to even.
uint16_t SubnormalHalf(uint32_t abs_bits) {
  const int exponent = static_cast<int>(abs_bits >> 23);
  if (exponent < kFloatExponentOfHalfUnit) return 0;
  const uint32_t mantissa = (abs_bits & 0x7fffffu) | 0x800000u;
  const int shift = 126 - exponent;  // 14..24
  uint32_t half = mantissa >> shift;
  const uint32_t rest = mantissa & ((1u << shift) - 1u);
  const uint32_t tie = 1u << (shift - 1);
  if (rest > tie || (rest == tie && (half & 1u))) ++half;  // 0x3ff + 1 is 2^-14: still right
  return static_cast<uint16_t>(half);
}

}  // namespace

uint16_t FloatToHalf(float x) {
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t abs_bits = bits & 0x7fffffffu;
  if (abs_bits > kFloatInf) {  // NaN: quiet, top payload bits kept
    return static_cast<uint16_t>(sign | kHalfInf | 0x200u | ((abs_bits >> 13) & 0x3ffu));
  }
  if (abs_bits >= kFloatRoundsToHalfInf) return static_cast<uint16_t>(sign | kHalfInf);
  if (abs_bits >= kFloatSmallestNormalHalf)
    return static_cast<uint16_t>(sign | NormalHalf(abs_bits));
  return static_cast<uint16_t>(sign | SubnormalHalf(abs_bits));
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f) return std::bit_cast<float>(sign | kFloatInf | (mantissa << 13));
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24, exact in a float
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return std::bit_cast<float>(sign | std::bit_cast<uint32_t>(magnitude));
  }
  return std::bit_cast<float>(sign | ((exponent + 127u - 15u) << 23) | (mantissa << 13));
}

float QuantizeRowInt8(std::span<const float> row, std::span<int8_t> q) {
  float max_abs = 0.0f;
  for (float x : row) max_abs = std::max(max_abs, std::fabs(x));
  if (max_abs == 0.0f) {
    std::fill(q.begin(), q.end(), int8_t{0});
    return 0.0f;
  }
  const float inverse = 127.0f / max_abs;
  for (size_t i = 0; i < row.size(); ++i) {
    const long rounded = std::lround(row[i] * inverse);
    q[i] = static_cast<int8_t>(std::clamp(rounded, -127L, 127L));
  }
  return max_abs / 127.0f;
}

void DequantizeRowInt8(float scale, std::span<const int8_t> q, std::span<float> row) {
  for (size_t i = 0; i < q.size(); ++i) row[i] = static_cast<float>(q[i]) * scale;
}

uint64_t EncodedRowBytes(pb::SparseEncoding encoding, int dim) {
  const uint64_t d = static_cast<uint64_t>(dim);
  switch (encoding) {
    case pb::SPARSE_FP16:
      return d * sizeof(uint16_t);
    case pb::SPARSE_INT8:
      return sizeof(float) + d;
    case pb::SPARSE_FP32:
      break;
  }
  return d * sizeof(float);
}

void AppendEncodedRows(pb::SparseEncoding encoding, int dim, std::span<const float> weights,
                       std::span<const size_t> order, std::string* out) {
  const size_t d = static_cast<size_t>(dim);
  auto row = [&](size_t i) { return weights.subspan(i * d, d); };
  auto append = [out](const void* p, size_t n) { out->append(static_cast<const char*>(p), n); };
  if (encoding == pb::SPARSE_FP16) {
    std::vector<uint16_t> halves(d);
    for (size_t i : order) {
      std::span<const float> r = row(i);
      std::transform(r.begin(), r.end(), halves.begin(), FloatToHalf);
      append(halves.data(), d * sizeof(uint16_t));
    }
  } else if (encoding == pb::SPARSE_INT8) {
    std::vector<int8_t> q(order.size() * d);
    std::vector<float> scales(order.size());
    for (size_t n = 0; n < order.size(); ++n) {
      scales[n] = QuantizeRowInt8(row(order[n]), std::span<int8_t>(q).subspan(n * d, d));
    }
    append(scales.data(), scales.size() * sizeof(float));
    append(q.data(), q.size());
  } else {
    for (size_t i : order) append(row(i).data(), d * sizeof(float));
  }
}

Status DecodeRows(pb::SparseEncoding encoding, int dim, uint64_t rows, std::string_view bytes,
                  std::vector<float>* weights) {
  const size_t d = static_cast<size_t>(dim);
  weights->resize(rows * d);
  if (encoding == pb::SPARSE_FP16) {
    for (size_t i = 0; i < rows * d; ++i) {
      uint16_t h;
      std::memcpy(&h, bytes.data() + i * sizeof(h), sizeof(h));
      (*weights)[i] = HalfToFloat(h);
    }
  } else if (encoding == pb::SPARSE_INT8) {
    std::vector<float> scales(rows);
    std::memcpy(scales.data(), bytes.data(), rows * sizeof(float));
    const auto* q = reinterpret_cast<const int8_t*>(bytes.data() + rows * sizeof(float));
    for (size_t r = 0; r < rows; ++r) {
      if (!std::isfinite(scales[r]) || scales[r] < 0.0f) {
        return Status::Corruption("int8 row " + std::to_string(r) + " has scale " +
                                  std::to_string(scales[r]));
      }
      DequantizeRowInt8(scales[r], std::span<const int8_t>(q + r * d, d),
                        std::span<float>(weights->data() + r * d, d));
    }
  } else {
    std::memcpy(weights->data(), bytes.data(), rows * d * sizeof(float));
  }
  return Status::OK();
}

}  // namespace tessera::io
