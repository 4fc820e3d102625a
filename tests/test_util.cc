#include "tests/test_util.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace tessera::testing {

CommandResult RunCommand(const std::string& command, int timeout_s) {
  CommandResult result;
  std::string tmp = MakeTempDir("cmd") + "/command.sh";
  WriteFile(tmp, command + "\n");
  std::string full =
      "timeout -k 5 " + std::to_string(timeout_s) + " bash " + tmp + " </dev/null 2>&1";
  auto start = std::chrono::steady_clock::now();
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) result.output.append(buf, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::string MakeTempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base ? base : "/tmp") + "/tessera-" + prefix + "-XXXXXX";
  char* dir = mkdtemp(pattern.data());
  return dir ? std::string(dir) : std::string();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

std::string TesseraBin() { return TESSERA_BIN; }
// The launcher runs the binary these tests were built with, not whatever build/ holds.
std::string TesseraRun() {
  return "TESSERA_BIN=" + TesseraBin() + " " TESSERA_SOURCE_DIR "/launch/tessera-run";
}

std::string SharedDir() {
  const char* env = std::getenv("TESSERA_SHARED_DIR");
  std::string candidates[] = {env ? env : "", TESSERA_SOURCE_DIR "/../shared", "/work/shared"};
  for (const std::string& c : candidates) {
    struct stat st;
    if (!c.empty() && stat((c + "/data").c_str(), &st) == 0) return c;
  }
  return "";
}

std::string JsonField(const std::string& json_lines, const std::string& key) {
  std::string needle = "\"" + key + "\": ";
  size_t pos = json_lines.rfind(needle);
  if (pos == std::string::npos) return "nan";
  pos += needle.size();
  size_t end = json_lines.find_first_of(",}", pos);
  return json_lines.substr(pos, end - pos);
}

}  // namespace tessera::testing
