// A wire message (DESIGN.md §3): a Protobuf header in frame 0, then either one
// serialized control body or raw little-endian arrays. Large arrays travel without a
// copy: FrameFromVector hands a vector's buffer to ZeroMQ, which frees it once sent.
// Messages are move-only values; not shared between threads.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "common/status.h"
#include "proto/messages.pb.h"

namespace tessera::net {

// Bumped when a frame layout changes; a peer with another version is refused.
inline constexpr int kWireVersion = 1;

// Table id of the dense parameters in PULL/PUSH headers.
inline constexpr int kDenseTable = -1;

// Upper bound on any frame we accept, so a corrupt length never allocates wildly.
inline constexpr size_t kMaxFrameBytes = size_t{1} << 31;

struct Message {
  pb::Header header;
  std::vector<zmq::message_t> frames;  // frames after the header
};

// A frame that owns `values` without copying them (zmq_msg_init_data + free callback).
template <typename T>
zmq::message_t FrameFromVector(std::vector<T>&& values);

// A frame holding a copy of `values` (for small arrays or borrowed memory).
template <typename T>
zmq::message_t FrameFromSpan(std::span<const T> values) {
  return zmq::message_t(values.data(), values.size_bytes());
}

// A frame holding a serialized control body.
zmq::message_t FrameFromProto(const google::protobuf::MessageLite& body);

// Parses frame `index` of `msg` into `body`; Corruption if absent or unparsable.
Status ParseBody(const Message& msg, size_t index, google::protobuf::MessageLite* body);

// Copies frame `index` into `out` as an array of T; Corruption when the frame is
// missing or its size is not a multiple of sizeof(T). A copy (not a view) because a
// received frame's data carries no alignment guarantee.
template <typename T>
Status ReadArray(const Message& msg, size_t index, std::vector<T>* out) {
  if (index >= msg.frames.size()) {
    return Status::Corruption("message kind " + std::to_string(msg.header.kind()) +
                              " lacks frame " + std::to_string(index));
  }
  const zmq::message_t& f = msg.frames[index];
  if (f.size() % sizeof(T) != 0) {
    return Status::Corruption("frame " + std::to_string(index) + " has " +
                              std::to_string(f.size()) + " bytes, not a multiple of " +
                              std::to_string(sizeof(T)));
  }
  out->resize(f.size() / sizeof(T));
  if (f.size() > 0) std::memcpy(out->data(), f.data(), f.size());
  return Status::OK();
}

// A view of frame `index` as an array of T: the frame's own bytes when they are
// aligned for T (ZeroMQ gives a large frame an allocation of its own, so a request's
// arrays usually are), otherwise a copy in *scratch. Corruption as ReadArray. The
// view lasts as long as the frame, not moved (a small frame lives inside its
// message_t), and *scratch.
template <typename T>
StatusOr<std::span<const T>> ViewArray(const Message& msg, size_t index, std::vector<T>* scratch) {
  if (index < msg.frames.size() &&
      reinterpret_cast<uintptr_t>(msg.frames[index].data()) % alignof(T) == 0 &&
      msg.frames[index].size() % sizeof(T) == 0) {
    return std::span<const T>(static_cast<const T*>(msg.frames[index].data()),
                              msg.frames[index].size() / sizeof(T));
  }
  RETURN_IF_ERROR(ReadArray(msg, index, scratch));
  return std::span<const T>(*scratch);
}

// A frame of n values of T, uninitialised, for the sender to fill in place
// (zmq_msg_init_size: no zeroing, no copy).
template <typename T>
zmq::message_t UninitializedFrame(size_t n) {
  zmq::message_t frame(n * sizeof(T));
  CHECK_EQ(reinterpret_cast<uintptr_t>(frame.data()) % alignof(T), 0u);
  return frame;
}

// Number of T elements in frame `index` (0 when absent).
template <typename T>
size_t ArraySize(const Message& msg, size_t index) {
  return index < msg.frames.size() ? msg.frames[index].size() / sizeof(T) : 0;
}

// Copies frame `index` into the caller's buffer, which must have exactly its size.
template <typename T>
Status ReadArrayInto(const Message& msg, size_t index, std::span<T> out) {
  if (index >= msg.frames.size() || msg.frames[index].size() != out.size_bytes()) {
    return Status::Corruption("frame " + std::to_string(index) + " does not hold the " +
                              std::to_string(out.size()) + " values expected");
  }
  if (!out.empty()) std::memcpy(out.data(), msg.frames[index].data(), out.size_bytes());
  return Status::OK();
}

// Implementation of FrameFromVector.
namespace internal {
template <typename T>
void FreeVector(void* /*data*/, void* hint) {
  delete static_cast<std::vector<T>*>(hint);
}
}  // namespace internal

template <typename T>
zmq::message_t FrameFromVector(std::vector<T>&& values) {
  if (values.empty()) return zmq::message_t();
  auto* owned = new std::vector<T>(std::move(values));
  return zmq::message_t(owned->data(), owned->size() * sizeof(T), &internal::FreeVector<T>,
                        owned);
}

}  // namespace tessera::net
