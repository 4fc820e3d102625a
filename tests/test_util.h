// Helpers for the integration tests: run a command with a time limit and capture
// its output, make temporary directories, read small files, find the data.
#pragma once

#include <string>

namespace tessera::testing {

struct CommandResult {
  int exit_code = -1;   // 124 when the time limit killed it
  std::string output;   // stdout and stderr, interleaved
  double seconds = 0.0;
};

// Runs `command` under bash with a hard time limit (timeout -k 5).
CommandResult RunCommand(const std::string& command, int timeout_s = 300);

// A fresh directory under the system temp dir.
std::string MakeTempDir(const std::string& prefix);

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& text);

// The built tessera binary, launch/tessera-run, and the shared data folder ("" when
// absent: tests that need it skip).
std::string TesseraBin();
std::string TesseraRun();
std::string SharedDir();

// The value of `"key": <number>` in the last line of a metrics.jsonl-style file
// holding `key`, as text (NaN text when absent).
std::string JsonField(const std::string& json_lines, const std::string& key);

}  // namespace tessera::testing
