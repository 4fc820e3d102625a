#include "net/message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tessera::net {
namespace {

using ::testing::HasSubstr;

Message WithFrames(pb::MessageKind kind, std::vector<zmq::message_t> frames) {
  Message msg;
  msg.header.set_kind(kind);
  msg.frames = std::move(frames);
  return msg;
}

TEST(FrameFromVectorTest, FrameOwnsTheVectorsBufferWithoutCopying) {
  std::vector<float> values(1 << 20, 0.5f);
  const float* buffer = values.data();

  zmq::message_t frame = FrameFromVector(std::move(values));

  EXPECT_EQ(frame.data(), static_cast<const void*>(buffer));
  EXPECT_EQ(frame.size(), (size_t{1} << 20) * sizeof(float));
}

TEST(FrameFromVectorTest, EmptyVectorGivesEmptyFrame) {
  zmq::message_t frame = FrameFromVector(std::vector<uint64_t>());
  EXPECT_EQ(frame.size(), 0u);
}

TEST(FrameFromSpanTest, FrameHoldsACopy) {
  std::vector<uint64_t> keys = {1, 2, 3};
  zmq::message_t frame = FrameFromSpan<uint64_t>(keys);
  keys[0] = 99;

  Message msg = WithFrames(pb::PULL, {});
  msg.frames.push_back(std::move(frame));
  std::vector<uint64_t> read;
  ASSERT_TRUE(ReadArray(msg, 0, &read).ok());
  EXPECT_EQ(read, (std::vector<uint64_t>{1, 2, 3}));
}

TEST(ReadArrayTest, RejectsFrameWhoseSizeIsNotAMultipleOfTheElementSize) {
  std::vector<zmq::message_t> frames;
  frames.emplace_back(std::string(10, 'x'));  // 10 bytes: 2.5 floats
  Message msg = WithFrames(pb::PUSH, std::move(frames));

  std::vector<float> out;
  Status s = ReadArray(msg, 0, &out);

  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("frame 0 has 10 bytes, not a multiple of 4"));
}

TEST(ReadArrayTest, MissingFrameIsCorruption) {
  Message msg = WithFrames(pb::PUSH, {});
  std::vector<uint64_t> out;
  Status s = ReadArray(msg, 1, &out);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("lacks frame 1"));
}

TEST(ReadArrayIntoTest, RejectsFrameOfAnotherSize) {
  std::vector<zmq::message_t> frames;
  frames.push_back(FrameFromVector(std::vector<float>(5, 1.0f)));
  Message msg = WithFrames(pb::PULL_REPLY, std::move(frames));

  std::vector<float> out(4);
  Status s = ReadArrayInto<float>(msg, 0, out);

  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("does not hold the 4 values expected"));
}

TEST(ParseBodyTest, RoundTripsAProtoFrame) {
  pb::Welcome welcome;
  welcome.set_job_id("job-7");
  welcome.set_num_servers(3);
  std::vector<zmq::message_t> frames;
  frames.push_back(FrameFromProto(welcome));
  Message msg = WithFrames(pb::WELCOME, std::move(frames));

  pb::Welcome parsed;
  ASSERT_TRUE(ParseBody(msg, 0, &parsed).ok());
  EXPECT_EQ(parsed.job_id(), "job-7");
  EXPECT_EQ(parsed.num_servers(), 3);
}

TEST(ParseBodyTest, MissingFrameIsCorruptionNamingTheKind) {
  Message msg = WithFrames(pb::WELCOME, {});
  pb::Welcome body;
  Status s = ParseBody(msg, 0, &body);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("WELCOME"));
}

TEST(ParseBodyTest, UnparsableBytesAreCorruption) {
  std::vector<zmq::message_t> frames;
  frames.emplace_back(std::string("\xff\xff\xff\xff", 4));  // a truncated varint tag
  Message msg = WithFrames(pb::CHUNK, std::move(frames));
  pb::Chunk body;
  Status s = ParseBody(msg, 0, &body);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("cannot parse the body of a CHUNK message"));
}

}  // namespace
}  // namespace tessera::net
