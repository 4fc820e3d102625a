// The `tessera` binary: one program, several subcommands (the only main() of the
// product). Flags are gflags, read only here in cmd/.
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include <gflags/gflags.h>
#include <glog/logging.h>

#include "cmd/commands.h"

namespace tessera::cmd {
namespace {

struct Command {
  const char* name;
  const char* summary;
  const char* usage;
  std::vector<const char*> flags;
};

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"train", "train a model: one rank of an mpirun job (role by rank)",
       "mpirun -np N tessera train --config JOB.pbtxt [--servers S]\n"
       "  Rank 0 is the scheduler, ranks 1..S the servers, the rest workers.\n"
       "  launch/tessera-run --servers S --workers W -- train --config JOB.pbtxt does it for you.",
       {"config", "servers", "model_dir", "epochs", "seed", "batch_size", "timeout_ms",
        "connect_timeout_ms", "progress_interval_s", "advertise_host", "resume", "init_from"}},
      {"scheduler", "the scheduler rank of an MPMD launch",
       "mpirun -np 1 tessera scheduler --config J : -np S tessera server --config J : "
       "-np W tessera worker --config J",
       {"config", "model_dir", "epochs", "seed", "batch_size", "timeout_ms",
        "connect_timeout_ms", "progress_interval_s", "advertise_host", "resume", "init_from"}},
      {"server", "a server rank of an MPMD launch (see `tessera help scheduler`)",
       "mpirun ... : -np S tessera server --config JOB.pbtxt : ...",
       {"config", "timeout_ms", "connect_timeout_ms", "advertise_host", "init_from"}},
      {"worker", "a worker rank of an MPMD launch (see `tessera help scheduler`)",
       "mpirun ... : -np W tessera worker --config JOB.pbtxt",
       {"config", "batch_size", "timeout_ms", "connect_timeout_ms", "advertise_host"}},
      {"gen-data", "write a synthetic Criteo-format dataset (deterministic)",
       "tessera gen-data --out DIR [--train_lines N] [--validation_lines M] [--data_seed S]\n"
       "  Writes DIR/train.tsv and DIR/validation.tsv (label, 13 integers, 26 hex ids).",
       {"out", "train_lines", "validation_lines", "data_seed"}},
      {"predict", "score a data file with a trained model and print AUC / logloss",
       "tessera predict --model DIR --data FILE [--predictions_out FILE]",
       {"model", "data", "predictions_out", "predict_batch_size"}},
      {"inspect", "describe a model or checkpoint directory and verify its files",
       "tessera inspect --dir DIR\n  Exit status 0 when every file is intact, 1 otherwise.",
       {"dir"}},
      {"split", "cut a MovieLens-style ratings file into DIR/train and DIR/test",
       "tessera split --ratings FILE --out DIR [--mode random --test_fraction 0.2 --seed S]\n"
       "  or [--mode leave_last_out --positive_threshold 4]\n"
       "  random: line i goes to test when UniformFromKey(seed, i) < test_fraction\n"
       "  (common/hash.h), the same for a seed on any machine. leave_last_out: each user's\n"
       "  latest positive (rating >= threshold; ties: the larger item id) goes to test; users\n"
       "  with fewer than 2 positives keep every line in train; DIR/train_positive gets the\n"
       "  positive lines of train (for implicit-feedback training). Lines are copied verbatim; a\n"
       "  malformed one is an error naming file:line.",
       {"ratings", "out", "mode", "test_fraction", "seed", "positive_threshold"}},
      {"export", "write a model for serving from a checkpoint (one shard, fp16/int8, pruned)",
       "tessera export --checkpoint DIR --out MODEL [--precision fp32|fp16|int8]\n"
       "    [--prune_untouched] [--prune_norm_below X] [--force]\n"
       "  Verifies every file of DIR, then writes MODEL: weights only, every server's rows in\n"
       "  one shard. `tessera predict --model MODEL` and `tessera inspect` read it; a key it\n"
       "  does not hold scores as a zero row. Exit status 2 for a bad flag, 1 for a failure.",
       {"checkpoint", "out", "precision", "prune_untouched", "prune_norm_below", "force"}},
      {"recommend", "top-K items for users from a trained model, or HR@K / NDCG@K",
       "tessera recommend --model DIR (--user ID | --users FILE | --evaluate FILE)\n"
       "    [--history FILES] [--k 10] [--include_seen]\n"
       "  Candidates, users' features and what each user has seen come from the history\n"
       "  (interaction files in the model's data format; default: its training files).\n"
       "  --user/--users print 'user rank item score' lines, best first, without the items\n"
       "  the user has seen. --evaluate FILE ranks each positive held-out interaction's item\n"
       "  among the user's unseen candidates and prints HR@K and NDCG@K beside the\n"
       "  most-popular baseline. Data formats that name users: MOVIELENS and CSV.",
       {"model", "history", "user", "users", "k", "evaluate", "include_seen"}},
  };
  return commands;
}

void PrintOverview() {
  std::cout << "tessera: a distributed parameter server for recommendation models.\n\n"
               "Usage: tessera <command> [flags]    tessera <command> --help\n\nCommands:\n";
  for (const Command& c : Commands()) {
    std::cout << "  " << c.name << std::string(12 - std::strlen(c.name), ' ') << c.summary
              << "\n";
  }
  std::cout << "\nSee README.md for the quick start and the job config format.\n";
}

void PrintHelp(const Command& c) {
  std::cout << "tessera " << c.name << ": " << c.summary << "\n\nUsage: " << c.usage
            << "\n\nFlags:\n";
  for (const char* name : c.flags) {
    gflags::CommandLineFlagInfo info = gflags::GetCommandLineFlagInfoOrDie(name);
    std::cout << "  --" << info.name << " (" << info.type << ", default: "
              << (info.default_value.empty() ? "\"\"" : info.default_value) << ")\n      "
              << info.description << "\n";
  }
}

const Command* Find(const std::string& name) {
  for (const Command& c : Commands()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

int Dispatch(const std::string& name) {
  if (name == "train") return RunTrain(TrainRole::kByRank);
  if (name == "scheduler") return RunTrain(TrainRole::kScheduler);
  if (name == "server") return RunTrain(TrainRole::kServer);
  if (name == "worker") return RunTrain(TrainRole::kWorker);
  if (name == "gen-data") return RunGenData();
  if (name == "inspect") return RunInspect();
  if (name == "split") return RunSplit();
  if (name == "export") return RunExport();
  if (name == "recommend") return RunRecommend();
  return RunPredict();
}

}  // namespace
}  // namespace tessera::cmd

int main(int argc, char** argv) {
  using namespace tessera::cmd;
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    if (argc >= 3 && Find(argv[2])) {
      PrintHelp(*Find(argv[2]));
    } else {
      PrintOverview();
    }
    return argc < 2 ? 1 : 0;
  }
  const Command* command = Find(argv[1]);
  if (command == nullptr) {
    std::cerr << "tessera: unknown command '" << argv[1] << "'. Run `tessera --help`.\n";
    return 2;
  }
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      PrintHelp(*command);
      return 0;
    }
  }
  // gflags sees the flags after the command name.
  std::vector<char*> args = {argv[0]};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  int n = static_cast<int>(args.size());
  char** p = args.data();
  gflags::SetUsageMessage(command->usage);
  gflags::ParseCommandLineFlags(&n, &p, /*remove_flags=*/true);
  if (n > 1) {
    std::cerr << "tessera " << command->name << ": unexpected argument '" << p[1]
              << "'. Run `tessera " << command->name << " --help`.\n";
    return 2;
  }
  FLAGS_logtostderr = true;  // glog 0.6 would otherwise write files under /tmp
  google::InitGoogleLogging(argv[0]);
  return Dispatch(command->name);
}
