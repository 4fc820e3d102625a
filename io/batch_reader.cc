#include "io/batch_reader.h"

#include <glog/logging.h>

#include <string_view>
#include <utility>

namespace tessera::io {

StatusOr<std::unique_ptr<BatchReader>> BatchReader::Open(const ChunkSpec& chunk, LineParser* parser,
                                                         int batch_size) {
  CHECK(parser != nullptr);
  if (batch_size < 1) {
    return Status::InvalidArgument("batch size must be at least 1, got " +
                                   std::to_string(batch_size));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<LineReader> lines, LineReader::Open(chunk));
  const bool skip_first_line = chunk.offset == 0 && parser->SkipsFirstLineOfFile();
  return std::unique_ptr<BatchReader>(
      new BatchReader(std::move(lines), parser, batch_size, skip_first_line));
}

StatusOr<bool> BatchReader::NextBatch(Batch* batch) {
  batch->Clear();
  std::string_view line;
  while (batch->size() < batch_size_ && lines_->Next(&line)) {
    if (skip_first_line_) {
      skip_first_line_ = false;
      continue;
    }
    if (!lines_->line_status().ok()) {
      CountBadLine(lines_->line_status());
      continue;
    }
    Status parsed = parser_->ParseLine(line, batch);
    if (parsed.ok()) {
      ++examples_;
    } else {
      CountBadLine(parsed);
    }
  }
  RETURN_IF_ERROR(lines_->status());
  batch->Deduplicate();
  return batch->size() > 0;
}

void BatchReader::CountBadLine(const Status& why) {
  ++bad_lines_;
  if (bad_lines_ > kMaxReportedBadLines) return;
  std::string message =
      lines_->path() + ":" + std::to_string(lines_->line_number()) + ": " + why.message();
  LOG(WARNING) << "skipping a malformed line: " << message;
  bad_line_messages_.push_back(std::move(message));
}

}  // namespace tessera::io
