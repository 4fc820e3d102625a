#include "net/socket.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

namespace tessera::net {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int kSendTimeoutMs = 2000;
constexpr int kReceiveTimeoutMs = 5000;
constexpr char kServerDescription[] = "server 0 (rank 1 on host test, tcp://127.0.0.1)";

// A Router bound on loopback and one Dealer ("rank-3") connected to it.
class RouterDealerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto router = Router::Bind(&context_, "127.0.0.1", kSendTimeoutMs);
    ASSERT_TRUE(router.ok()) << router.status().ToString();
    router_ = std::move(router).value();
    auto dealer = Dealer::Connect(&context_, router_->endpoint(), "rank-3", kServerDescription,
                                  kSendTimeoutMs);
    ASSERT_TRUE(dealer.ok()) << dealer.status().ToString();
    dealer_ = std::move(dealer).value();
  }

  // Declared first so that it outlives the sockets.
  zmq::context_t context_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<Dealer> dealer_;
};

std::vector<float> Ramp(size_t n) {
  std::vector<float> values(n);
  for (size_t i = 0; i < n; ++i) values[i] = static_cast<float>(i) * 0.25f - 7.0f;
  return values;
}

TEST_F(RouterDealerTest, RouterAdvertisesTheGivenHostAndItsPort) {
  EXPECT_THAT(router_->endpoint(), StartsWith("tcp://127.0.0.1:"));
  std::string port = router_->endpoint().substr(std::string("tcp://127.0.0.1:").size());
  EXPECT_GT(std::stoi(port), 0);
}

TEST_F(RouterDealerTest, ArraysRoundTripFromDealerToRouterAndBack) {
  std::vector<uint64_t> keys(50000);
  std::iota(keys.begin(), keys.end(), uint64_t{1} << 40);
  const std::vector<uint64_t> expected_keys = keys;
  const std::vector<float> expected_grads = Ramp(1 << 20);  // 4 MiB

  Message push;
  push.header.set_kind(pb::PUSH);
  push.header.set_request_id(77);
  push.header.set_count(keys.size());
  push.frames.push_back(FrameFromVector(std::move(keys)));
  push.frames.push_back(FrameFromVector(std::vector<float>(expected_grads)));
  ASSERT_TRUE(dealer_->Send(std::move(push)).ok());

  Message at_router;
  std::string peer;
  auto got = router_->Receive(&at_router, &peer, kReceiveTimeoutMs);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(*got) << "nothing arrived at the router";
  EXPECT_EQ(peer, "rank-3");
  EXPECT_EQ(at_router.header.kind(), pb::PUSH);
  EXPECT_EQ(at_router.header.request_id(), 77u);
  EXPECT_EQ(at_router.header.wire_version(), kWireVersion);
  std::vector<uint64_t> received_keys;
  std::vector<float> received_grads;
  ASSERT_TRUE(ReadArray(at_router, 0, &received_keys).ok());
  ASSERT_TRUE(ReadArray(at_router, 1, &received_grads).ok());
  EXPECT_EQ(received_keys, expected_keys);
  EXPECT_EQ(received_grads, expected_grads);

  Message reply;
  reply.header.set_kind(pb::PULL_REPLY);
  reply.header.set_request_id(77);
  reply.frames.push_back(FrameFromVector(std::move(received_grads)));
  ASSERT_TRUE(router_->Send(peer, std::move(reply)).ok());

  Message at_dealer;
  Status s = dealer_->ReceiveOrTimeout(&at_dealer, kReceiveTimeoutMs, "a pull");
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(at_dealer.header.kind(), pb::PULL_REPLY);
  EXPECT_EQ(at_dealer.header.request_id(), 77u);
  std::vector<float> values;
  ASSERT_TRUE(ReadArray(at_dealer, 0, &values).ok());
  EXPECT_EQ(values, expected_grads);
}

TEST_F(RouterDealerTest, ReceiveOrTimeoutNamesThePeerAndTheTimeout) {
  Message msg;
  Status s = dealer_->ReceiveOrTimeout(&msg, 50, "a pull of table 0");
  EXPECT_EQ(s.code(), Status::Code::kDeadlineExceeded) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(kServerDescription));
  EXPECT_THAT(s.message(), HasSubstr("a pull of table 0"));
  EXPECT_THAT(s.message(), HasSubstr("within 50 ms"));
}

TEST_F(RouterDealerTest, RouterReceiveReturnsFalseWhenNothingArrives) {
  Message msg;
  std::string peer;
  auto got = router_->Receive(&msg, &peer, 20);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_FALSE(*got);
}

TEST_F(RouterDealerTest, RouterSendToUnknownPeerIsUnavailable) {
  Message msg;
  msg.header.set_kind(pb::PONG);
  Status s = router_->Send("rank-99", std::move(msg));
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
}

TEST_F(RouterDealerTest, RouterRefusesAHeaderOfAnotherWireVersion) {
  // A raw DEALER, because Dealer::Send always stamps our own wire version.
  zmq::socket_t raw(context_, zmq::socket_type::dealer);
  raw.set(zmq::sockopt::linger, 0);
  raw.set(zmq::sockopt::routing_id, "old-peer");
  raw.connect(router_->endpoint());
  pb::Header header;
  header.set_kind(pb::HELLO);
  header.set_wire_version(kWireVersion + 1);
  ASSERT_TRUE(raw.send(zmq::buffer(header.SerializeAsString()), zmq::send_flags::none));

  Message msg;
  std::string peer;
  auto got = router_->Receive(&msg, &peer, kReceiveTimeoutMs);
  EXPECT_EQ(got.status().code(), Status::Code::kCorruption) << got.status().ToString();
  EXPECT_THAT(got.status().message(),
              HasSubstr("wire version " + std::to_string(kWireVersion + 1)));
}

TEST_F(RouterDealerTest, DealerRefusesAReplyWithoutAParsableHeader) {
  // Say hello so that the router learns the dealer's routing id.
  Message hello;
  hello.header.set_kind(pb::HELLO);
  ASSERT_TRUE(dealer_->Send(std::move(hello)).ok());
  Message at_router;
  std::string peer;
  auto got = router_->Receive(&at_router, &peer, kReceiveTimeoutMs);
  ASSERT_TRUE(got.ok() && *got) << got.status().ToString();

  zmq::socket_t& raw = router_->socket();
  ASSERT_TRUE(raw.send(zmq::buffer(peer), zmq::send_flags::sndmore));
  ASSERT_TRUE(raw.send(zmq::str_buffer("\xff\xff\xff"), zmq::send_flags::none));

  Message reply;
  Status s = dealer_->ReceiveOrTimeout(&reply, kReceiveTimeoutMs, "a welcome");
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("receiving from " + std::string(kServerDescription)));
}

TEST(DealerTest, SendToAnEndpointNobodyListensOnIsADeadlineNamingThePeer) {
  zmq::context_t context;
  const std::string description = "server 4 (rank 5 on host nowhere, tcp://127.0.0.1:1)";
  auto dealer = Dealer::Connect(&context, "tcp://127.0.0.1:1", "rank-0", description,
                                /*send_timeout_ms=*/200);
  ASSERT_TRUE(dealer.ok()) << dealer.status().ToString();

  Message msg;
  msg.header.set_kind(pb::PING);
  auto start = std::chrono::steady_clock::now();
  Status s = (*dealer)->Send(std::move(msg));
  auto elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_EQ(s.code(), Status::Code::kDeadlineExceeded) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("sending to " + description));
  EXPECT_GE(elapsed, std::chrono::milliseconds(150));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

}  // namespace
}  // namespace tessera::net
