// The encodings of sparse rows in shard files (proto/files.proto SparseEncoding): f32,
// IEEE 754 half precision, and int8 with one symmetric scale per row; and their decoding
// back to floats. Exports for serving use the smaller ones (io/export.h); training and
// checkpoints write f32 only. Pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "proto/files.pb.h"

namespace tessera::io {

// IEEE 754 binary16 bits of `x`, rounded to nearest, ties to even: magnitudes from
// 65520 up become infinity, below 2^-14 subnormal halves (steps of 2^-24), at most
// 2^-25 zero (sign kept). Infinities stay infinities; a NaN stays a NaN (quiet, with
// the top bits of its payload).
uint16_t FloatToHalf(float x);

// The float of binary16 bits `h`: exact (every half is a float).
float HalfToFloat(uint16_t h);

// Quantizes one row symmetrically: returns scale = max |x| / 127 (0 when every x is
// 0) and writes q[i] = round(x[i] / scale), ties away from zero, in [-127, 127], so
// that q[i] * scale is within scale / 2 of x[i]. The row must be finite; q.size()
// must equal row.size().
float QuantizeRowInt8(std::span<const float> row, std::span<int8_t> q);

// row[i] = q[i] * scale.
void DequantizeRowInt8(float scale, std::span<const int8_t> q, std::span<float> row);

// Bytes one row of `dim` values takes in `encoding`, its key excluded (INT8 includes its
// f32 scale).
uint64_t EncodedRowBytes(pb::SparseEncoding encoding, int dim);

// Appends the rows of `weights` (rows of `dim` floats) in the order `order`, encoded:
// for INT8 every row's scale first, then every row's values (the file layout).
void AppendEncodedRows(pb::SparseEncoding encoding, int dim, std::span<const float> weights,
                       std::span<const size_t> order, std::string* out);

// Decodes `rows` rows from `bytes`, which holds exactly rows * EncodedRowBytes bytes,
// into `weights` (rows x dim floats). Corruption for an INT8 scale that is negative or
// not finite.
Status DecodeRows(pb::SparseEncoding encoding, int dim, uint64_t rows, std::string_view bytes,
                  std::vector<float>* weights);

}  // namespace tessera::io
