#include "io/synthetic.h"

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cmath>
#include <utility>
#include <vector>

#include "common/hash.h"
#include "io/file_util.h"

namespace tessera::io {
namespace {

constexpr int kNumDense = 13;
constexpr int kNumFields = 26;

// ---- The data's shape ----

// Per categorical field C1..C26: distinct values (the Criteo Kaggle counts, the seven
// largest capped between 2.9e5 and 1e6), Zipf exponent of their popularity, fraction
// missing (Criteo's own rates, rounded), and the spread of the teacher's main weights.
struct FieldSpec {
  uint32_t cardinality;
  double zipf_exponent;
  double missing_rate;
  double weight_sigma;
};
constexpr std::array<FieldSpec, kNumFields> kFields = {{
    {1460, 1.10, 0.00, 0.45},      // C1
    {583, 1.12, 0.00, 0.40},       // C2
    {1000000, 1.05, 0.034, 0.25},  // C3
    {800000, 1.08, 0.034, 0.25},   // C4
    {305, 1.15, 0.00, 0.35},       // C5
    {24, 1.20, 0.12, 0.40},        // C6
    {12517, 1.10, 0.00, 0.35},     // C7
    {633, 1.15, 0.00, 0.30},       // C8
    {3, 1.20, 0.00, 0.30},         // C9
    {93145, 1.08, 0.00, 0.30},     // C10
    {5683, 1.10, 0.00, 0.35},      // C11
    {1000000, 1.05, 0.034, 0.25},  // C12
    {3194, 1.12, 0.00, 0.35},      // C13
    {27, 1.20, 0.00, 0.40},        // C14
    {14992, 1.10, 0.00, 0.30},     // C15
    {900000, 1.06, 0.034, 0.25},   // C16
    {10, 1.20, 0.00, 0.35},        // C17
    {5652, 1.12, 0.00, 0.30},      // C18
    {2173, 1.12, 0.44, 0.30},      // C19
    {4, 1.20, 0.44, 0.35},         // C20
    {1000000, 1.05, 0.034, 0.25},  // C21
    {18, 1.20, 0.76, 0.30},        // C22
    {15, 1.20, 0.00, 0.35},        // C23
    {286181, 1.08, 0.034, 0.30},   // C24
    {105, 1.15, 0.44, 0.30},       // C25
    {142572, 1.08, 0.44, 0.30},    // C26
}};

// Per integer field I1..I13: fraction missing (Criteo's), and the shape of its heavy
// tail: the value's bit length k is geometric, P(k) ~ decay^k for k = 0..kMaxBits, and
// the value is uniform in [2^(k-1), 2^k) (0 for k = 0). I2 is sometimes -1..-3, as in
// Criteo. teacher_weight is a_d of the header.
struct DenseSpec {
  double missing_rate;
  double decay;
  double teacher_weight;
};
constexpr int kMaxBits = 24;
constexpr std::array<DenseSpec, kNumDense> kDense = {{
    {0.45, 0.45, 0.20},    // I1
    {0.00, 0.70, -0.05},   // I2
    {0.21, 0.65, 0.10},    // I3
    {0.22, 0.60, -0.08},   // I4
    {0.026, 0.85, -0.06},  // I5
    {0.22, 0.70, 0.08},    // I6
    {0.04, 0.60, 0.15},    // I7
    {0.0005, 0.60, 0.05},  // I8
    {0.04, 0.70, 0.06},    // I9
    {0.45, 0.30, 0.25},    // I10
    {0.04, 0.50, 0.20},    // I11
    {0.76, 0.40, 0.10},    // I12
    {0.22, 0.60, 0.06},    // I13
}};
constexpr double kNegativeI2Rate = 0.05;

// The teacher's field interactions, 0-based field indices, and the width of u.
constexpr std::array<std::pair<int, int>, 6> kPairs = {
    {{0, 1}, {4, 5}, {6, 12}, {8, 16}, {13, 22}, {10, 17}}};
constexpr int kFactorDim = 4;
constexpr double kFactorSigma = 0.46;
// Scales every main weight: sets the teacher's AUC (about 0.83 with these tables).
constexpr double kMainScale = 0.7;
constexpr double kNonlinearWeight = 0.5;
constexpr int kNonlinearDense = 2;   // I3
constexpr int kNonlinearField = 19;  // C20
constexpr int kCalibrationLines = 20000;

// Stream tags: what each random sequence or hash is for.
enum Tag : uint64_t {
  kTrainStream = 1,
  kValidationStream,
  kCalibrationStream,
  kHexTag,
  kMainWeightTag,
  kFactorTag,
  kSignTag,
};

// ---- Randomness ----

uint64_t SplitMix64(uint64_t* state) {
  *state += 0x9e3779b97f4a7c15ULL;
  return Mix64(*state);
}

// xoshiro256** (Blackman and Vigna): fast, and the same sequence everywhere.
class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream) {
    uint64_t state = Mix64(seed) ^ (stream * 0xd1b54a32d192ed03ULL);
    for (uint64_t& word : s_) word = SplitMix64(&state);
  }
  uint64_t Next() {
    const uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = std::rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // True with probability p (p rounded to 2^-32).
  bool Bernoulli(double p) { return (Next() >> 32) < static_cast<uint64_t>(p * 0x1.0p32); }

 private:
  std::array<uint64_t, 4> s_;
};

// A pseudo-random 64-bit function of (seed, tag, field, value).
uint64_t KeyHash(uint64_t seed, uint64_t tag, uint64_t field, uint64_t value) {
  return Mix64(Mix64(seed ^ (tag << 56) ^ (field << 48)) ^ value);
}

// About N(0, 1) from one hash: the centred sum of four 16-bit uniforms (Irwin-Hall),
// integer arithmetic, bounded at +-3.46.
double NormalFromHash(uint64_t h) {
  int64_t sum = static_cast<int64_t>(h & 0xffff) + static_cast<int64_t>((h >> 16) & 0xffff) +
                static_cast<int64_t>((h >> 32) & 0xffff) + static_cast<int64_t>(h >> 48);
  constexpr double kScale = 1.7320508075688772 / 65536.0;  // sqrt(12 / 4) per unit
  return static_cast<double>(sum - 2 * 65535) * kScale;
}

// Walker's alias method (Vose's construction): O(1) samples from a discrete
// distribution, one 64-bit random number each. A sample is split in two (Slot, then
// Resolve) so that a caller can prefetch the slot of a large table first.
class AliasTable {
 public:
  explicit AliasTable(const std::vector<double>& weights);
  uint32_t Slot(uint64_t r) const { return static_cast<uint32_t>(((r >> 32) * size_) >> 32); }
  void Prefetch(uint32_t slot) const { __builtin_prefetch(&slots_[slot]); }
  uint32_t Resolve(uint32_t slot, uint64_t r) const {
    return static_cast<uint32_t>(r) < slots_[slot].threshold ? slot : slots_[slot].alias;
  }
  uint32_t Sample(uint64_t r) const { return Resolve(Slot(r), r); }

 private:
  struct Entry {
    uint32_t threshold;  // keep the slot when the low 32 bits are below this
    uint32_t alias;
  };
  uint64_t size_;
  std::vector<Entry> slots_;
};

AliasTable::AliasTable(const std::vector<double>& weights)
    : size_(weights.size()), slots_(weights.size()) {
  double total = 0;
  for (double w : weights) total += w;
  std::vector<double> scaled(weights.size());
  std::vector<uint32_t> small, large;
  for (uint32_t i = 0; i < weights.size(); ++i) {
    scaled[i] = weights[i] * static_cast<double>(size_) / total;
    (scaled[i] < 1.0 ? small : large).push_back(i);
  }
  while (!small.empty() && !large.empty()) {
    const uint32_t s = small.back(), l = large.back();
    small.pop_back();
    slots_[s] = {static_cast<uint32_t>(scaled[s] * 0x1.0p32), l};
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // What is left has probability 1 up to rounding.
  for (uint32_t i : small) slots_[i] = {UINT32_MAX, i};
  for (uint32_t i : large) slots_[i] = {UINT32_MAX, i};
}

AliasTable ZipfTable(uint32_t n, double exponent) {
  std::vector<double> weights(n);
  for (uint32_t k = 0; k < n; ++k) weights[k] = std::pow(static_cast<double>(k) + 1.0, -exponent);
  return AliasTable(weights);
}

AliasTable BitLengthTable(double decay) {
  std::vector<double> weights(kMaxBits + 1);
  double w = 1.0;
  for (double& x : weights) x = w, w *= decay;
  return AliasTable(weights);
}

// ---- Examples and the teacher ----

constexpr uint32_t kMissing = UINT32_MAX;

// One line before formatting: ranks of the categoricals (0 = most popular) and values.
struct Example {
  std::array<uint32_t, kNumFields> rank;  // kMissing when absent
  std::array<int64_t, kNumDense> value;
  std::array<bool, kNumDense> has_value;
  bool label;
};

class Teacher {
 public:
  explicit Teacher(uint64_t seed);

  // Draws the features of one example (not its label).
  void SampleFeatures(Rng* rng, Example* ex) const;
  // The teacher's logit without the bias.
  double Score(const Example& ex) const;
  // The 8-hex-digit value that stands for `rank` of `field` in the files.
  uint32_t HexValue(int field, uint32_t rank) const {
    return static_cast<uint32_t>(KeyHash(seed_, kHexTag, field, rank));
  }

 private:
  double MainWeight(int field, uint32_t rank) const {
    return kMainScale * kFields[field].weight_sigma *
           NormalFromHash(KeyHash(seed_, kMainWeightTag, field, rank));
  }
  double PairScore(int f, uint32_t rank_f, int g, uint32_t rank_g) const;

  uint64_t seed_;
  std::vector<AliasTable> ids_;
  std::vector<AliasTable> bits_;
};

Teacher::Teacher(uint64_t seed) : seed_(seed) {
  ids_.reserve(kNumFields);
  for (const FieldSpec& f : kFields) ids_.push_back(ZipfTable(f.cardinality, f.zipf_exponent));
  bits_.reserve(kNumDense);
  for (const DenseSpec& d : kDense) bits_.push_back(BitLengthTable(d.decay));
}

void Teacher::SampleFeatures(Rng* rng, Example* ex) const {
  for (int d = 0; d < kNumDense; ++d) {
    ex->has_value[d] = !rng->Bernoulli(kDense[d].missing_rate);
    const uint32_t bits = bits_[d].Sample(rng->Next());
    const uint64_t r = rng->Next();
    ex->value[d] = bits == 0 ? 0
                             : static_cast<int64_t>((uint64_t{1} << (bits - 1)) +
                                                    (r & ((uint64_t{1} << (bits - 1)) - 1)));
    if (d == 1 && rng->Bernoulli(kNegativeI2Rate)) ex->value[d] = -1 - static_cast<int64_t>(r % 3);
  }
  // Draw every field's random numbers first and prefetch their alias slots: the large
  // tables do not fit in cache, and the misses then overlap.
  std::array<uint64_t, kNumFields> r;
  std::array<uint32_t, kNumFields> slot;
  for (int f = 0; f < kNumFields; ++f) {
    ex->rank[f] = rng->Bernoulli(kFields[f].missing_rate) ? kMissing : 0;
    r[f] = rng->Next();
    slot[f] = ids_[f].Slot(r[f]);
    ids_[f].Prefetch(slot[f]);
  }
  for (int f = 0; f < kNumFields; ++f) {
    if (ex->rank[f] != kMissing) ex->rank[f] = ids_[f].Resolve(slot[f], r[f]);
  }
}

double Teacher::PairScore(int f, uint32_t rank_f, int g, uint32_t rank_g) const {
  if (rank_f == kMissing || rank_g == kMissing) return 0.0;
  const uint64_t hf = KeyHash(seed_, kFactorTag, f, rank_f);
  const uint64_t hg = KeyHash(seed_, kFactorTag, g, rank_g);
  double dot = 0;
  for (int k = 0; k < kFactorDim; ++k) {
    dot += NormalFromHash(Mix64(hf + k)) * NormalFromHash(Mix64(hg + k));
  }
  return kFactorSigma * kFactorSigma * dot;
}

double Teacher::Score(const Example& ex) const {
  double z = 0;
  for (int f = 0; f < kNumFields; ++f) z += MainWeight(f, ex.rank[f]);
  for (auto [f, g] : kPairs) z += PairScore(f, ex.rank[f], g, ex.rank[g]);
  for (int d = 0; d < kNumDense; ++d) {
    if (ex.has_value[d])
      z += kDense[d].teacher_weight * std::log1p(std::max<int64_t>(ex.value[d], 0));
  }
  if (ex.has_value[kNonlinearDense]) {
    const double x = std::log1p(std::max<int64_t>(ex.value[kNonlinearDense], 0));
    const bool sign = KeyHash(seed_, kSignTag, kNonlinearField, ex.rank[kNonlinearField]) & 1;
    z += kNonlinearWeight * std::tanh(x - 2.0) * (sign ? 1.0 : -1.0);
  }
  return z;
}

double Sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// The bias that makes the mean probability `target_ctr` on a calibration stream.
double CalibrateBias(const Teacher& teacher, uint64_t seed, double target_ctr) {
  Rng rng(seed, kCalibrationStream);
  std::vector<double> scores(kCalibrationLines);
  Example ex;
  for (double& s : scores) {
    teacher.SampleFeatures(&rng, &ex);
    s = teacher.Score(ex);
  }
  double lo = -20, hi = 20;
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (lo + hi);
    double mean = 0;
    for (double s : scores) mean += Sigmoid(mid + s);
    (mean / scores.size() < target_ctr ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

// ---- Formatting ----

char* AppendInt(char* p, int64_t v) {
  if (v < 0) *p++ = '-', v = -v;
  char digits[20];
  int n = 0;
  do digits[n++] = static_cast<char>('0' + v % 10), v /= 10;
  while (v > 0);
  while (n > 0) *p++ = digits[--n];
  return p;
}

char* AppendHex8(char* p, uint32_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int shift = 28; shift >= 0; shift -= 4) *p++ = kDigits[(v >> shift) & 0xf];
  return p;
}

// Writes one line at `p` (at most kMaxLineBytes) and returns its end.
constexpr size_t kMaxLineBytes = 2 + kNumDense * 21 + kNumFields * 9 + 1;
char* FormatLine(const Teacher& teacher, const Example& ex, char* p) {
  *p++ = ex.label ? '1' : '0';
  for (int d = 0; d < kNumDense; ++d) {
    *p++ = '\t';
    if (ex.has_value[d]) p = AppendInt(p, ex.value[d]);
  }
  for (int f = 0; f < kNumFields; ++f) {
    *p++ = '\t';
    if (ex.rank[f] != kMissing) p = AppendHex8(p, teacher.HexValue(f, ex.rank[f]));
  }
  *p++ = '\n';
  return p;
}

// ---- Files ----

// Exact AUC of `scored` (probability, label), ties counted half (rank-sum form).
double ExactAuc(std::vector<std::pair<double, bool>> scored) {
  std::sort(scored.begin(), scored.end());
  double positive_rank_sum = 0;
  int64_t positives = 0;
  for (size_t i = 0; i < scored.size();) {
    size_t j = i;
    int64_t tied_positives = 0;
    for (; j < scored.size() && scored[j].first == scored[i].first; ++j)
      tied_positives += scored[j].second;
    const double mean_rank = 0.5 * static_cast<double>(i + 1 + j);  // ranks i+1..j
    positive_rank_sum += mean_rank * static_cast<double>(tied_positives);
    positives += tied_positives;
    i = j;
  }
  const int64_t negatives = static_cast<int64_t>(scored.size()) - positives;
  if (positives == 0 || negatives == 0) return 0.5;
  const double p = static_cast<double>(positives);
  return (positive_rank_sum - p * (p + 1) / 2) / (p * static_cast<double>(negatives));
}

// What one file's generation needs and fills in.
struct StreamJob {
  const std::string* path;
  uint64_t stream;
  int64_t lines;
  int64_t* positives;
  std::vector<std::pair<double, bool>>* scored;  // nullptr: probabilities not kept
};

class DatasetWriter {
 public:
  DatasetWriter(const SyntheticOptions& options, const Teacher& teacher, double bias)
      : options_(options), teacher_(teacher), bias_(bias) {}

  Status Write(const StreamJob& job);

 private:
  static constexpr size_t kBufferBytes = size_t{4} << 20;

  void Progress() {
    if (options_.progress) {
      options_.progress(lines_done_, options_.train_lines + options_.validation_lines);
    }
  }

  const SyntheticOptions& options_;
  const Teacher& teacher_;
  double bias_;
  int64_t lines_done_ = 0;
};

Status DatasetWriter::Write(const StreamJob& job) {
  StatusOr<AtomicFileWriter> file =
      AtomicFileWriter::Create(*job.path, AtomicFileWriter::Durability::kAtomicOnly);
  if (!file.ok()) return Status::IOError(file.status().message());
  Rng rng(options_.seed, job.stream);
  std::vector<char> buffer(kBufferBytes + kMaxLineBytes);
  char* p = buffer.data();
  Example ex;
  for (int64_t i = 0; i < job.lines; ++i) {
    teacher_.SampleFeatures(&rng, &ex);
    const double probability = Sigmoid(bias_ + teacher_.Score(ex));
    ex.label = rng.Uniform() < probability;
    *job.positives += ex.label;
    if (job.scored != nullptr) job.scored->emplace_back(probability, ex.label);
    p = FormatLine(teacher_, ex, p);
    if (static_cast<size_t>(p - buffer.data()) >= kBufferBytes) {
      RETURN_IF_ERROR(file->Append(std::string_view(buffer.data(), p - buffer.data())));
      p = buffer.data();
    }
    if (++lines_done_ % (int64_t{1} << 16) == 0) Progress();
  }
  RETURN_IF_ERROR(file->Append(std::string_view(buffer.data(), p - buffer.data())));
  Status committed = file->Commit();
  return committed.ok() ? committed : Status::IOError(committed.message());
}

}  // namespace

Status GenerateCriteoDataset(const SyntheticOptions& options, const std::string& train_path,
                             const std::string& validation_path, SyntheticReport* report) {
  const auto start = std::chrono::steady_clock::now();
  if (options.train_lines < 0 || options.validation_lines < 0) {
    return Status::InvalidArgument("synthetic data: line counts must not be negative");
  }
  if (options.validation_lines > 0 && validation_path.empty()) {
    return Status::InvalidArgument("synthetic data: validation lines but no validation path");
  }
  if (!(options.target_ctr > 0 && options.target_ctr < 1)) {
    return Status::InvalidArgument("synthetic data: target_ctr must be in (0, 1)");
  }
  *report = SyntheticReport();
  const Teacher teacher(options.seed);
  DatasetWriter writer(options, teacher, CalibrateBias(teacher, options.seed, options.target_ctr));
  RETURN_IF_ERROR(writer.Write(
      {&train_path, kTrainStream, options.train_lines, &report->train_positives, nullptr}));
  report->train_lines = options.train_lines;
  if (options.validation_lines > 0) {
    std::vector<std::pair<double, bool>> scored;
    scored.reserve(options.validation_lines);
    RETURN_IF_ERROR(writer.Write({&validation_path, kValidationStream, options.validation_lines,
                                  &report->validation_positives, &scored}));
    report->validation_lines = options.validation_lines;
    report->teacher_validation_auc = ExactAuc(std::move(scored));
  }
  if (options.progress)
    options.progress(options.train_lines + options.validation_lines,
                     options.train_lines + options.validation_lines);
  report->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return Status::OK();
}

}  // namespace tessera::io
