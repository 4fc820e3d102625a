// ZeroMQ sockets for Tessera's two patterns (DESIGN.md §3):
//   Router: a bound ROUTER socket (servers, the scheduler) that answers many peers;
//   Dealer: a DEALER socket connected to one Router, identified by the owner's rank.
// Every receive takes a deadline; every send has one (ZMQ_SNDTIMEO) so that a peer
// that is gone turns into a Status naming it, never a hang.
// A socket belongs to the thread that uses it (ZeroMQ sockets are not thread-safe).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "common/status.h"
#include "net/message.h"

namespace tessera::net {

// The IPv4 address other hosts reach this one by: the address the host name resolves
// to, or 127.0.0.1 when it does not resolve.
std::string DefaultAdvertisedHost();

class Router {
 public:
  // Binds tcp://*:<ephemeral> and advertises tcp://<advertise_host>:<port>.
  static StatusOr<std::unique_ptr<Router>> Bind(zmq::context_t* context,
                                                const std::string& advertise_host,
                                                int send_timeout_ms);

  // The endpoint peers connect to.
  const std::string& endpoint() const { return endpoint_; }

  // Receives one message. Returns false when nothing arrived within timeout_ms.
  // `peer` is the sender's routing id (the Dealer's identity).
  StatusOr<bool> Receive(Message* msg, std::string* peer, int timeout_ms);

  // Sends `msg` to the Dealer whose routing id is `peer`. Unavailable when that peer is
  // not connected, DeadlineExceeded when it does not drain its queue in time.
  Status Send(const std::string& peer, Message msg);

  zmq::socket_t& socket() { return socket_; }

 private:
  Router(zmq::context_t* context, std::string endpoint);
  zmq::socket_t socket_;
  std::string endpoint_;
};

class Dealer {
 public:
  // Connects to `endpoint` with routing id `identity`. ZeroMQ connects in the
  // background: an unreachable peer shows up as a send or receive deadline.
  // `peer_description` names the peer in every error ("server 1 (rank 2 on host vm,
  // tcp://10.0.0.2:4711)").
  static StatusOr<std::unique_ptr<Dealer>> Connect(zmq::context_t* context,
                                                   const std::string& endpoint,
                                                   const std::string& identity,
                                                   std::string peer_description,
                                                   int send_timeout_ms);

  Status Send(Message msg);
  // Receives one message; false when nothing arrived within timeout_ms.
  StatusOr<bool> Receive(Message* msg, int timeout_ms);
  // Receive() that treats a timeout as DeadlineExceeded naming the peer and `what`.
  Status ReceiveOrTimeout(Message* msg, int timeout_ms, const std::string& what);

  // Changes how long a Send may wait for the peer to take the message.
  void SetSendTimeout(int timeout_ms);

  const std::string& peer_description() const { return peer_description_; }
  zmq::socket_t& socket() { return socket_; }

 private:
  Dealer(zmq::context_t* context, std::string peer_description);
  zmq::socket_t socket_;
  std::string peer_description_;
};

// Receives the frames of one multipart message already waiting on `socket`.
// With `with_identity`, the first frame is the routing id (ROUTER sockets).
Status ReceiveWaiting(zmq::socket_t& socket, bool with_identity, Message* msg,
                      std::string* identity);

// Sends `msg` (after an optional routing id frame).
Status SendMessage(zmq::socket_t& socket, const std::string* identity, Message msg);

}  // namespace tessera::net
