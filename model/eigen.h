// Eigen in one place: the matrix types model/ computes with, views over buffers
// it does not own, and a scratch matrix that keeps its memory between batches.
// Every matrix is row-major (model/input.h). The free functions are pure and
// thread-safe; a ScratchMatrix belongs to one thread.
#pragma once

#include <glog/logging.h>

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <vector>

namespace tessera::model {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::Matrix<float, Eigen::Dynamic, 1>;

using MatrixMap = Eigen::Map<RowMatrix>;
using ConstMatrixMap = Eigen::Map<const RowMatrix>;
using VectorMap = Eigen::Map<Vector>;
// A matrix inside a wider one: rows are outerStride() floats apart.
using ConstStridedMatrixMap = Eigen::Map<const RowMatrix, 0, Eigen::OuterStride<>>;
using ConstVectorMap = Eigen::Map<const Vector>;

// Views `values` as a [rows x cols] matrix; the span must hold exactly that many floats.
inline ConstMatrixMap MapMatrix(std::span<const float> values, int64_t rows, int64_t cols) {
  CHECK_EQ(static_cast<int64_t>(values.size()), rows * cols);
  return ConstMatrixMap(values.data(), rows, cols);
}
inline MatrixMap MapMatrix(std::span<float> values, int64_t rows, int64_t cols) {
  CHECK_EQ(static_cast<int64_t>(values.size()), rows * cols);
  return MatrixMap(values.data(), rows, cols);
}
inline ConstVectorMap MapVector(std::span<const float> values) {
  return ConstVectorMap(values.data(), static_cast<int64_t>(values.size()));
}
inline VectorMap MapVector(std::span<float> values) {
  return VectorMap(values.data(), static_cast<int64_t>(values.size()));
}

// A row-major matrix whose buffer only grows: reshaping it to a size it has held
// before never allocates, so scratch survives batches of varying size (the last,
// short batch of a file) without touching the heap again.
class ScratchMatrix {
 public:
  // Reshapes to [rows x cols]; the contents are unspecified.
  MatrixMap Resize(int64_t rows, int64_t cols) {
    if (static_cast<int64_t>(data_.size()) < rows * cols) data_.resize(rows * cols);
    rows_ = rows;
    cols_ = cols;
    return mutable_view();
  }
  // Reshapes to [rows x cols], filled with zeros.
  MatrixMap ResizeZero(int64_t rows, int64_t cols) {
    MatrixMap m = Resize(rows, cols);
    m.setZero();
    return m;
  }
  MatrixMap mutable_view() { return MatrixMap(data_.data(), rows_, cols_); }
  ConstMatrixMap view() const { return ConstMatrixMap(data_.data(), rows_, cols_); }
  // All values in order, as one vector (the column of a [n x 1] matrix).
  VectorMap mutable_vector() { return VectorMap(data_.data(), rows_ * cols_); }
  ConstVectorMap vector() const { return ConstVectorMap(data_.data(), rows_ * cols_); }

 private:
  std::vector<float> data_;
  int64_t rows_ = 0;
  int64_t cols_ = 0;
};

}  // namespace tessera::model
