#include "bench/synthetic_lines.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "io/synthetic.h"

namespace tessera::bench {

std::vector<std::string> SyntheticCriteoLines(int count) {
  std::string pattern = (std::filesystem::temp_directory_path() / "tessera-bench-XXXXXX").string();
  CHECK(mkdtemp(pattern.data()) != nullptr) << "cannot create a directory under /tmp";
  const std::string path = pattern + "/train.tsv";
  io::SyntheticOptions options;
  options.train_lines = count;
  options.validation_lines = 0;
  io::SyntheticReport report;
  Status s = io::GenerateCriteoDataset(options, path, "", &report);
  CHECK(s.ok()) << s.ToString();
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  std::filesystem::remove_all(pattern);
  CHECK_EQ(static_cast<int>(lines.size()), count);
  return lines;
}

}  // namespace tessera::bench
