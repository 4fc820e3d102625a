#include "model/retrieval.h"

#include <string>
#include <utility>

#include "model/ctr_model.h"

namespace tessera::model {

StatusOr<std::unique_ptr<Retriever>> Retriever::Create(const ModelSpec& spec) {
  RETURN_IF_ERROR(ValidateModelSpec(spec));
  if (spec.kind != ModelKind::kMf && spec.kind != ModelKind::kTwoTower) {
    return Status::InvalidArgument(
        "model spec: kind = " + std::to_string(static_cast<int>(spec.kind)) +
        " is not MF or two-tower, the kinds that score items by "
        "a user vector");
  }
  return std::unique_ptr<Retriever>(new Retriever(std::make_unique<CtrModel>(spec)));
}

Retriever::Retriever(std::unique_ptr<CtrModel> model) : model_(std::move(model)) {}

Retriever::~Retriever() = default;

void Retriever::EncodeUsers(const BatchView& users, const ParamsView& params, EncodedSide* out) {
  model_->EncodeSide(Side::kUser, users, params, &out->vectors, &out->terms);
}

void Retriever::EncodeItems(const BatchView& items, const ParamsView& params, EncodedSide* out) {
  model_->EncodeSide(Side::kItem, items, params, &out->vectors, &out->terms);
}

void Retriever::Score(const EncodedSide& users, const EncodedSide& items,
                      std::span<float> outputs) {
  CHECK_EQ(users.vectors.cols(), items.vectors.cols());
  CHECK_EQ(users.terms.size(), users.size());
  CHECK_EQ(items.terms.size(), items.size());
  MatrixMap scores = MapMatrix(outputs, users.size(), items.size());
  if (scores.size() == 0) return;
  scores.noalias() = users.vectors * items.vectors.transpose();
  scores.colwise() += users.terms;
  scores.rowwise() += items.terms.transpose();
}

void Retriever::ToPredictions(std::span<float> outputs) const {
  for (float& output : outputs) output = model_->Prediction(output);
}

}  // namespace tessera::model
