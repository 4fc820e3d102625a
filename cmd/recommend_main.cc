// `tessera recommend`: the top-K items for users from a trained model, without a
// cluster, and the top-K evaluation (HR@K, NDCG@K) of held-out interactions against
// the most-popular baseline.
//
// Items and users come from interaction files in the model's data format (the
// "history"; by default the job's training files): every distinct item seen there
// is a candidate, a user's features are those of its first interaction, and the
// items a user interacted with are not recommended to it again. Users and items are
// named by the raw text of their first user field and first item field.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <gflags/gflags.h>

#include "cmd/commands.h"
#include "cmd/job_config.h"
#include "cmd/serving.h"
#include "io/chunk.h"
#include "io/format.h"
#include "io/item_catalog.h"
#include "io/line_reader.h"
#include "io/model_file.h"
#include "model/metrics.h"
#include "serve/recommender.h"

DEFINE_string(history, "",
              "Interaction files (comma-separated) in the model's data format: the candidate "
              "items, the users' features and what each user has seen. Default: the job's "
              "training files (data.train in the model's MANIFEST).");
DEFINE_string(user, "", "Recommend for this user id.");
DEFINE_string(users, "", "Recommend for every user id in this file (one per line).");
DEFINE_int32(k, 10, "How many items to recommend (and the K of HR@K / NDCG@K).");
DEFINE_string(evaluate, "",
              "Held-out interactions (the model's data format): rank each positive one's item "
              "among all candidates the user has not seen and report HR@K and NDCG@K, beside "
              "the most-popular baseline.");
DEFINE_bool(include_seen, false, "Also recommend items the user has already interacted with.");
DECLARE_string(model);

namespace tessera::cmd {
namespace {

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

// Interactions read from files: one example per line, with its user and item names.
struct Interactions {
  io::Batch batch;
  std::vector<std::string> users;  // per example
  std::vector<std::string> items;  // per example
  int64_t bad_lines = 0;
};

Status ReadInteractions(const std::vector<std::string>& files, const io::DataFormat& format,
                        int user_fields, Interactions* out) {
  out->batch.num_fields = format.layout().num_fields;
  out->batch.num_dense = format.layout().num_dense;
  out->batch.Clear();
  std::unique_ptr<io::LineParser> parser = format.NewParser();
  ASSIGN_OR_RETURN(std::vector<io::ChunkSpec> chunks, io::PlanChunks(files, int64_t{1} << 40));
  for (const io::ChunkSpec& chunk : chunks) {
    ASSIGN_OR_RETURN(auto reader, io::LineReader::Open(chunk));
    std::string_view line;
    while (reader->Next(&line)) {
      if (reader->line_number() == 1 && parser->SkipsFirstLineOfFile()) continue;
      if (!reader->line_status().ok()) {
        ++out->bad_lines;
        continue;
      }
      StatusOr<io::UserItemText> ids = format.UserAndItem(line, user_fields);
      Status parsed = ids.ok() ? parser->ParseLine(line, &out->batch) : ids.status();
      if (!parsed.ok()) {
        if (out->bad_lines++ < 10) {
          std::cerr << "tessera recommend: " << chunk.path << ":" << reader->line_number()
                    << ": " << parsed.message() << " (skipped)" << std::endl;
        }
        continue;
      }
      out->users.emplace_back(ids->user);
      out->items.emplace_back(ids->item);
    }
    RETURN_IF_ERROR(reader->status());
  }
  out->batch.Deduplicate();
  return Status::OK();
}

struct Catalog {
  explicit Catalog(int user_fields) : items(user_fields) {}
  io::ItemCatalog items;
  std::vector<std::string> names;          // per catalogue item
  std::vector<float> positives;            // per catalogue item: positive interactions
  std::map<std::string, int64_t> first;    // user -> its first example in the history
  std::map<std::string, std::vector<int32_t>> seen;  // user -> items, ascending
};

// Adds the items of `in` to the catalogue; with `history`, also users and popularity.
void AddToCatalog(const Interactions& in, bool history, Catalog* c) {
  for (int64_t b = 0; b < in.batch.size(); ++b) {
    const int32_t item = c->items.Add(in.batch, b);
    if (item == static_cast<int32_t>(c->names.size())) {
      c->names.push_back(in.items[b]);
      c->positives.push_back(0.0f);
    }
    if (!history) continue;
    if (in.batch.labels[b] > 0.5f) c->positives[item] += 1.0f;
    c->first.emplace(in.users[b], b);
    c->seen[in.users[b]].push_back(item);
  }
  if (!history) return;
  for (auto& [user, items] : c->seen) {
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
  }
}

Status Recommend(std::ostream& out) {
  if (FLAGS_model.empty()) return Status::InvalidArgument("--model DIR is required");
  if (FLAGS_k < 1) return Status::InvalidArgument("--k must be at least 1");
  if (FLAGS_user.empty() + FLAGS_users.empty() + FLAGS_evaluate.empty() != 2) {
    return Status::InvalidArgument("give exactly one of --user, --users and --evaluate");
  }
  ASSIGN_OR_RETURN(ServingModel serving, LoadServingModel(FLAGS_model, /*rank_scores=*/true));
  const pb::JobConfig& config = serving.loaded->manifest().config();
  const io::FeatureLayout& layout = serving.format->layout();
  const int user_fields = serving.spec.user_fields;
  if (user_fields < 1 || user_fields >= layout.num_fields) {
    return Status::InvalidArgument(
        FLAGS_model + ": the model does not say which fields are the user's and which the "
                      "item's (model.user_fields); recommend needs both");
  }
  std::vector<std::string> history_files = SplitCommas(FLAGS_history);
  if (history_files.empty()) {
    history_files.assign(config.data().train().begin(), config.data().train().end());
  }
  Interactions history;
  RETURN_IF_ERROR(ReadInteractions(history_files, *serving.format, user_fields, &history));
  Catalog catalog(user_fields);
  AddToCatalog(history, /*history=*/true, &catalog);
  std::cerr << "history: " << history.batch.size() << " interactions, " << catalog.first.size()
            << " users, " << catalog.items.size() << " items" << std::endl;
  Interactions held_out;
  if (!FLAGS_evaluate.empty()) {
    RETURN_IF_ERROR(ReadInteractions({FLAGS_evaluate}, *serving.format, user_fields, &held_out));
    AddToCatalog(held_out, /*history=*/false, &catalog);  // unseen items are candidates too
  }
  serve::Recommender recommender(serving.model.get(), serving.rows, serving.loaded->dense(),
                                 &catalog.items);
  const std::vector<int32_t> none;
  auto seen_by = [&](const std::string& user) -> const std::vector<int32_t>& {
    if (FLAGS_include_seen) return none;
    auto it = catalog.seen.find(user);
    return it == catalog.seen.end() ? none : it->second;
  };

  if (FLAGS_evaluate.empty()) {
    std::vector<std::string> users;
    if (!FLAGS_user.empty()) {
      users.push_back(FLAGS_user);
    } else {
      std::ifstream in(FLAGS_users);
      if (!in) return Status::NotFound("cannot open --users " + FLAGS_users);
      for (std::string line; std::getline(in, line);) {
        if (!line.empty()) users.push_back(line);
      }
    }
    out << "user\trank\titem\tscore\n";
    for (const std::string& user : users) {
      auto it = catalog.first.find(user);
      if (it == catalog.first.end()) {
        std::cerr << "tessera recommend: user " << user
                  << " has no interaction in the history: skipped" << std::endl;
        continue;
      }
      const std::vector<serve::ScoredItem> top =
          recommender.TopK(history.batch, it->second, seen_by(user), FLAGS_k);
      for (size_t r = 0; r < top.size(); ++r) {
        out << user << '\t' << r + 1 << '\t' << catalog.names[top[r].item] << '\t'
            << top[r].score << '\n';
      }
    }
    return Status::OK();
  }

  // Evaluation: each positive held-out interaction is ranked among the candidates its
  // user has not seen in the history (the held-out item itself always competes).
  double hit = 0, ndcg = 0, pop_hit = 0, pop_ndcg = 0;
  int64_t users = 0;
  std::vector<float> scores;
  for (int64_t b = 0; b < held_out.batch.size(); ++b) {
    if (!(held_out.batch.labels[b] > 0.5f)) continue;
    const int32_t item = catalog.items.Find(held_out.batch, b);
    const std::vector<int32_t>& seen = seen_by(held_out.users[b]);
    recommender.ScoreAll(held_out.batch, b, &scores);
    const int64_t rank = serve::RankOf(scores, item, seen);
    const int64_t pop_rank = serve::RankOf(catalog.positives, item, seen);
    hit += model::HitAtK(rank, FLAGS_k);
    ndcg += model::NdcgAtK(rank, FLAGS_k);
    pop_hit += model::HitAtK(pop_rank, FLAGS_k);
    pop_ndcg += model::NdcgAtK(pop_rank, FLAGS_k);
    ++users;
  }
  if (users == 0) {
    return Status::InvalidArgument(FLAGS_evaluate + " holds no positive interaction to rank");
  }
  char line[256];
  std::snprintf(line, sizeof(line),
                "%lld held-out interactions, %lld candidate items:\n"
                "  model         HR@%d %.4f  NDCG@%d %.4f\n"
                "  most popular  HR@%d %.4f  NDCG@%d %.4f",
                static_cast<long long>(users), static_cast<long long>(catalog.items.size()),
                FLAGS_k, hit / users, FLAGS_k, ndcg / users, FLAGS_k, pop_hit / users, FLAGS_k,
                pop_ndcg / users);
  out << line << std::endl;
  return Status::OK();
}

}  // namespace

int RunRecommend() {
  Status s = Recommend(std::cout);
  if (!s.ok()) {
    std::cerr << "tessera recommend: " << s.ToString() << std::endl;
    return 1;
  }
  return 0;
}

}  // namespace tessera::cmd
