#include "io/text_fields.h"

#include <charconv>
#include <cmath>

#include "common/hash.h"

namespace tessera::io {
namespace {

constexpr size_t kMaxQuotedBytes = 40;

}  // namespace

std::string QuoteValue(std::string_view value) {
  if (value.size() <= kMaxQuotedBytes) return "'" + std::string(value) + "'";
  return "'" + std::string(value.substr(0, kMaxQuotedBytes)) + "...'";
}

Status ParseNumber(std::string_view text, std::string_view what, float* value) {
  std::string_view digits = text;
  if (digits.size() > 1 && digits[0] == '+' && digits[1] != '-') digits.remove_prefix(1);
  const char* end = digits.data() + digits.size();
  auto [ptr, ec] = std::from_chars(digits.data(), end, *value);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(*value)) {
    return Status::InvalidArgument(std::string(what) + " " + QuoteValue(text) + " is not a number");
  }
  return Status::OK();
}

Status ParseIndex(std::string_view text, std::string_view what, uint64_t* value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return Status::InvalidArgument(std::string(what) + " " + QuoteValue(text) +
                                   " is not a non-negative integer");
  }
  return Status::OK();
}

Status ParseLabel(std::string_view text, LabelKind kind, float* label) {
  RETURN_IF_ERROR(ParseNumber(text, "label", label));
  if (kind == LabelKind::kValue) return Status::OK();
  if (*label == -1.0f) *label = 0.0f;
  if (*label != 0.0f && *label != 1.0f) {
    return Status::InvalidArgument("label " + QuoteValue(text) +
                                   " is not 0 or 1 (or -1) as a BCE model needs");
  }
  return Status::OK();
}

uint64_t IndexFeatureId(uint32_t field, uint64_t index) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), index);
  return FeatureId(field, std::string_view(digits, end - digits));
}

std::string_view NextToken(std::string_view* rest) {
  size_t begin = 0;
  while (begin < rest->size() && IsBlank((*rest)[begin])) ++begin;
  size_t end = begin;
  while (end < rest->size() && !IsBlank((*rest)[end])) ++end;
  std::string_view token = rest->substr(begin, end - begin);
  rest->remove_prefix(end);
  return token;
}

void SplitOn(std::string_view line, std::string_view separator,
             std::vector<std::string_view>* fields) {
  fields->clear();
  while (true) {
    const size_t at = line.find(separator);
    fields->push_back(line.substr(0, at));
    if (at == std::string_view::npos) return;
    line.remove_prefix(at + separator.size());
  }
}

void SplitRatingLine(std::string_view line, std::vector<std::string_view>* fields) {
  if (line.find("::") != std::string_view::npos) {
    SplitOn(line, "::", fields);
    return;
  }
  fields->clear();
  for (std::string_view token = NextToken(&line); !token.empty(); token = NextToken(&line)) {
    fields->push_back(token);
  }
}

}  // namespace tessera::io
