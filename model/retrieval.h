// Scoring a catalogue of items for a user with an MF or two-tower model, without a
// batch per (user, item) pair. Both kinds' output (model/ctr_model.h) splits as
//   output(user, item) = user term + item term + user vector . item vector
// where
//   MF         user term = bias + sum of the user fields' w_bf
//              item term = sum of the item fields' w_bf
//              vectors   = the sums of each side's bag vectors e_bf
//   two-tower  user term = bias, item term = 0
//              vectors   = MLP_user and MLP_item of each side's bag vectors
// so a catalogue is encoded once (EncodeItems) and each user then costs one
// EncodeUsers and one matrix-vector product (Score). The user term does not change a
// user's ranking; it is kept so that ToPredictions(Score(...)) is what Model::Predict
// returns for the same pairs (up to float rounding: the terms are summed in another
// order).
//
// Inputs are the model's own views (model/input.h). A side's BatchView holds N users
// or items over that side's fields only: users over fields [0, user_fields), items
// over [user_fields, F) (the item fields of a training example, in order); labels and
// dense are not read; bag weights (values) work as in training. Its ParamsView holds
// the rows its bags name and the model's whole dense vector, so users and items may
// come from different pulls.
//
// A Retriever owns scratch only: not thread-safe, one per thread. EncodedSide is plain
// data: encode a catalogue once and share it read-only; Score is a pure function.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "common/status.h"
#include "model/eigen.h"
#include "model/input.h"
#include "model/model.h"

namespace tessera::model {

class CtrModel;

// N users or items, encoded: row n belongs to the n-th example of the encoded batch.
struct EncodedSide {
  RowMatrix vectors;  // [N x k]
  Vector terms;       // [N]: the side's terms of the output
  int64_t size() const { return vectors.rows(); }
};

class Retriever {
 public:
  // InvalidArgument naming the spec field when `spec` is not a valid MF or two-tower
  // spec (the checks of CreateModel, then the kind).
  static StatusOr<std::unique_ptr<Retriever>> Create(const ModelSpec& spec);
  ~Retriever();

  // Encodes the N users of `users` (num_fields = user_fields) into *out.
  void EncodeUsers(const BatchView& users, const ParamsView& params, EncodedSide* out);
  // Encodes the N items of `items` (num_fields = F - user_fields) into *out.
  void EncodeItems(const BatchView& items, const ParamsView& params, EncodedSide* out);

  // outputs [users.size() x items.size()], row-major: the output of every (user, item)
  // pair, higher is better. One user against a catalogue is a matrix-vector product.
  static void Score(const EncodedSide& users, const EncodedSide& items, std::span<float> outputs);

  // Maps outputs in place to the predictions Model::Predict returns: sigmoid for
  // binary cross-entropy, label_offset + output clipped to [min_prediction,
  // max_prediction] (when set) for squared error. Non-decreasing, so the ranking of
  // outputs is a ranking of predictions.
  void ToPredictions(std::span<float> outputs) const;

 private:
  explicit Retriever(std::unique_ptr<CtrModel> model);

  std::unique_ptr<CtrModel> model_;
};

}  // namespace tessera::model
