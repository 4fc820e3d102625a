// NodeTable only: MpiRuntime needs mpirun and is covered by tests/integration_test.cc.
#include "net/cluster.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tessera::net {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

pb::NodeInfo Node(int rank, pb::Role role, std::string endpoint = "") {
  pb::NodeInfo n;
  n.set_rank(rank);
  n.set_role(role);
  n.set_host("h");
  n.set_endpoint(std::move(endpoint));
  return n;
}

// Scheduler, two servers, a worker, a third server, a second worker.
std::vector<pb::NodeInfo> MixedNodes() {
  return {Node(0, pb::SCHEDULER, "tcp://10.0.0.1:5000"), Node(1, pb::SERVER, "tcp://10.0.0.1:5001"),
          Node(2, pb::SERVER, "tcp://10.0.0.2:4711"),    Node(3, pb::WORKER),
          Node(4, pb::SERVER, "tcp://10.0.0.3:5002"),    Node(5, pb::WORKER)};
}

TEST(NodeTableTest, BuildGroupsRanksByRoleAndFillsRoleIndex) {
  auto table = NodeTable::Build(MixedNodes());
  ASSERT_TRUE(table.ok()) << table.status().ToString();

  EXPECT_EQ(table->size(), 6);
  EXPECT_EQ(table->scheduler_rank(), 0);
  EXPECT_THAT(table->server_ranks(), ElementsAre(1, 2, 4));
  EXPECT_THAT(table->worker_ranks(), ElementsAre(3, 5));
  EXPECT_EQ(table->node(0).role_index(), 0);
  EXPECT_EQ(table->node(1).role_index(), 0);
  EXPECT_EQ(table->node(2).role_index(), 1);
  EXPECT_EQ(table->node(3).role_index(), 0);
  EXPECT_EQ(table->node(4).role_index(), 2);
  EXPECT_EQ(table->node(5).role_index(), 1);
}

TEST(NodeTableTest, BuildRejectsTwoSchedulers) {
  auto table = NodeTable::Build(
      {Node(0, pb::SCHEDULER), Node(1, pb::SERVER), Node(2, pb::SCHEDULER), Node(3, pb::WORKER)});
  EXPECT_EQ(table.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(table.status().message(), HasSubstr("two schedulers: ranks 0 and 2"));
}

TEST(NodeTableTest, BuildRejectsAJobWithoutServer) {
  auto table = NodeTable::Build({Node(0, pb::SCHEDULER), Node(1, pb::WORKER)});
  EXPECT_EQ(table.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(table.status().message(), HasSubstr("no server"));
}

TEST(NodeTableTest, BuildRejectsAJobWithoutWorker) {
  auto table = NodeTable::Build({Node(0, pb::SCHEDULER), Node(1, pb::SERVER)});
  EXPECT_EQ(table.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(table.status().message(), HasSubstr("no worker"));
}

TEST(NodeTableTest, BuildRejectsAJobWithoutScheduler) {
  auto table = NodeTable::Build({Node(0, pb::SERVER), Node(1, pb::WORKER)});
  EXPECT_EQ(table.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(table.status().message(), HasSubstr("no scheduler"));
}

TEST(NodeTableTest, BuildRejectsARankWithoutRole) {
  auto table = NodeTable::Build({Node(0, pb::SCHEDULER), Node(1, pb::ROLE_UNKNOWN),
                                 Node(2, pb::SERVER), Node(3, pb::WORKER)});
  EXPECT_EQ(table.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(table.status().message(), HasSubstr("rank 1 has no role"));
}

TEST(NodeTableTest, BuildRejectsNodesOutOfRankOrder) {
  auto table = NodeTable::Build({Node(0, pb::SCHEDULER), Node(2, pb::SERVER), Node(1, pb::WORKER)});
  EXPECT_FALSE(table.ok());
  EXPECT_THAT(table.status().message(), HasSubstr("out of rank order at 1"));
}

TEST(NodeTableTest, DescribeNamesRoleIndexRankHostAndEndpoint) {
  auto table = NodeTable::Build(MixedNodes());
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->Describe(2), "server 1 (rank 2 on host h, tcp://10.0.0.2:4711)");
}

TEST(NodeTableTest, DescribeGivesTheSchedulerNoIndex) {
  auto table = NodeTable::Build(MixedNodes());
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->Describe(0), "scheduler (rank 0 on host h, tcp://10.0.0.1:5000)");
}

TEST(NodeTableTest, DescribeOmitsAnEmptyEndpoint) {
  auto table = NodeTable::Build(MixedNodes());
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->Describe(5), "worker 1 (rank 5 on host h)");
}

TEST(NodeTableTest, DescribeOfAnUnknownRankSaysSo) {
  auto table = NodeTable::Build(MixedNodes());
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->Describe(6), "rank 6 (unknown)");
  EXPECT_EQ(table->Describe(-1), "rank -1 (unknown)");
}

}  // namespace
}  // namespace tessera::net
