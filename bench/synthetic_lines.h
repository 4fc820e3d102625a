// Criteo-format lines from the synthetic generator (io/synthetic.h), held in memory for
// the parsing and model benchmarks. Written once to a temporary directory, read back,
// the directory removed. Not thread-safe; call from one benchmark's setup.
#pragma once

#include <string>
#include <vector>

namespace tessera::bench {

// `count` training lines of seed 1 (deterministic), without their '\n'. CHECK-fails
// when the generator cannot write its temporary file (a broken machine, not a benchmark).
std::vector<std::string> SyntheticCriteoLines(int count);

}  // namespace tessera::bench
