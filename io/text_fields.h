// Small, allocation-free pieces shared by the text parsers (libsvm, libffm, CSV,
// MovieLens): numbers and labels from views of a line, the key of an integer feature
// index, and quoting a bad value in an error message. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tessera::io {

// What a label column holds, as the model's loss needs it.
enum class LabelKind {
  kBinary,  // 0 or 1 (BCE); -1 is read as 0, so libsvm's -1/+1 data works unchanged
  kValue,   // any finite number (MSE: ratings, prices)
};

// `value` in single quotes, cut to a short prefix, for error messages (a line of
// garbage must not become a megabyte of log).
std::string QuoteValue(std::string_view value);

// A finite decimal number (a leading '+' allowed, as in libsvm's "+1"). `what` names
// the value in the error: "label '1.2.3' is not a number".
Status ParseNumber(std::string_view text, std::string_view what, float* value);

// A non-negative decimal integer below 2^64 (feature indices, field numbers).
Status ParseIndex(std::string_view text, std::string_view what, uint64_t* value);

// A label of `kind`: kBinary accepts 0, 1 and -1 (-> 0) in any float spelling
// ("1", "+1", "1.0"); kValue any finite number.
Status ParseLabel(std::string_view text, LabelKind kind, float* label);

// The feature id of integer index `index` in `field`: FeatureId(field, decimal text of
// index), so "7" and "007" are one feature and a CSV categorical "7" of the same field
// gets the same id. Stable across versions, like FeatureId.
uint64_t IndexFeatureId(uint32_t field, uint64_t index);

// Whether `c` separates tokens in whitespace-separated formats (space, tab).
inline bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// The next whitespace-separated token of *rest (empty when none is left); *rest
// then starts after it.
std::string_view NextToken(std::string_view* rest);

// Splits `line` at every occurrence of `separator` (not empty) into *fields (cleared
// first); n separators give n + 1 fields, empty ones included.
void SplitOn(std::string_view line, std::string_view separator,
             std::vector<std::string_view>* fields);

// Splits a MovieLens-style rating line into *fields: at "::" when the line holds one
// (ml-1m's .dat files), else at runs of spaces and tabs (ml-100k's u.data).
void SplitRatingLine(std::string_view line, std::vector<std::string_view>* fields);

}  // namespace tessera::io
