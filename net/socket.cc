#include "net/socket.h"

#include <netdb.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>

namespace tessera::net {
namespace {

// Linger on close: long enough to flush a final reply, short enough never to hang exit.
constexpr int kLingerMs = 2000;

std::string ZmqError(const zmq::error_t& e) { return std::string(e.what()); }

}  // namespace

std::string DefaultAdvertisedHost() {
  char name[256] = {0};
  if (gethostname(name, sizeof(name) - 1) != 0) return "127.0.0.1";
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (getaddrinfo(name, nullptr, &hints, &result) != 0 || result == nullptr) return "127.0.0.1";
  char text[INET_ADDRSTRLEN] = {0};
  const auto* addr = reinterpret_cast<const sockaddr_in*>(result->ai_addr);
  inet_ntop(AF_INET, &addr->sin_addr, text, sizeof(text));
  freeaddrinfo(result);
  return text;
}

Status ReceiveWaiting(zmq::socket_t& socket, bool with_identity, Message* msg,
                      std::string* identity) {
  std::vector<zmq::message_t> parts;
  try {
    while (true) {
      zmq::message_t part;
      if (!socket.recv(part, zmq::recv_flags::dontwait)) {
        if (parts.empty()) return Status::Unavailable("no message waiting");
        return Status::Corruption("a multipart message ended early");
      }
      bool more = part.more();
      parts.push_back(std::move(part));
      if (!more) break;
    }
  } catch (const zmq::error_t& e) {
    return Status::IOError("receive failed: " + ZmqError(e));
  }
  size_t first = 0;
  if (with_identity) {
    if (parts.empty()) return Status::Corruption("message without routing id");
    *identity = parts[0].to_string();
    first = 1;
  }
  if (parts.size() <= first) return Status::Corruption("message without header");
  if (!msg->header.ParseFromArray(parts[first].data(), static_cast<int>(parts[first].size()))) {
    return Status::Corruption("cannot parse a message header");
  }
  if (msg->header.wire_version() != kWireVersion) {
    return Status::Corruption("peer speaks wire version " +
                              std::to_string(msg->header.wire_version()) + ", we speak " +
                              std::to_string(kWireVersion));
  }
  msg->frames.clear();
  for (size_t i = first + 1; i < parts.size(); ++i) {
    if (parts[i].size() > kMaxFrameBytes) return Status::Corruption("frame over 2 GiB");
    msg->frames.push_back(std::move(parts[i]));
  }
  return Status::OK();
}

Status SendMessage(zmq::socket_t& socket, const std::string* identity, Message msg) {
  msg.header.set_wire_version(kWireVersion);
  std::string header = msg.header.SerializeAsString();
  try {
    if (identity != nullptr) {
      if (!socket.send(zmq::buffer(*identity), zmq::send_flags::sndmore)) {
        return Status::DeadlineExceeded("send timed out");
      }
    }
    auto flags = msg.frames.empty() ? zmq::send_flags::none : zmq::send_flags::sndmore;
    if (!socket.send(zmq::buffer(header), flags)) {
      return Status::DeadlineExceeded("send timed out");
    }
    for (size_t i = 0; i < msg.frames.size(); ++i) {
      auto f = i + 1 < msg.frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
      if (!socket.send(msg.frames[i], f)) return Status::DeadlineExceeded("send timed out");
    }
  } catch (const zmq::error_t& e) {
    if (e.num() == EHOSTUNREACH) return Status::Unavailable("peer is not connected");
    return Status::IOError("send failed: " + ZmqError(e));
  }
  return Status::OK();
}

Router::Router(zmq::context_t* context, std::string endpoint)
    : socket_(*context, zmq::socket_type::router), endpoint_(std::move(endpoint)) {}

StatusOr<std::unique_ptr<Router>> Router::Bind(zmq::context_t* context,
                                               const std::string& advertise_host,
                                               int send_timeout_ms) {
  std::unique_ptr<Router> router(new Router(context, ""));
  try {
    router->socket_.set(zmq::sockopt::router_mandatory, 1);
    router->socket_.set(zmq::sockopt::linger, kLingerMs);
    router->socket_.set(zmq::sockopt::sndtimeo, send_timeout_ms);
    router->socket_.set(zmq::sockopt::sndhwm, 0);
    router->socket_.set(zmq::sockopt::rcvhwm, 0);
    router->socket_.bind("tcp://*:*");
    std::string bound = router->socket_.get(zmq::sockopt::last_endpoint);
    std::string port = bound.substr(bound.rfind(':') + 1);
    router->endpoint_ = "tcp://" + advertise_host + ":" + port;
  } catch (const zmq::error_t& e) {
    return Status::IOError("cannot bind a ROUTER socket on tcp://*:*: " + ZmqError(e));
  }
  return router;
}

StatusOr<bool> Router::Receive(Message* msg, std::string* peer, int timeout_ms) {
  zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
  try {
    if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) == 0) return false;
  } catch (const zmq::error_t& e) {
    return Status::IOError("poll failed: " + ZmqError(e));
  }
  RETURN_IF_ERROR(ReceiveWaiting(socket_, /*with_identity=*/true, msg, peer));
  return true;
}

Status Router::Send(const std::string& peer, Message msg) {
  return SendMessage(socket_, &peer, std::move(msg));
}

Dealer::Dealer(zmq::context_t* context, std::string peer_description)
    : socket_(*context, zmq::socket_type::dealer), peer_description_(std::move(peer_description)) {}

StatusOr<std::unique_ptr<Dealer>> Dealer::Connect(zmq::context_t* context,
                                                  const std::string& endpoint,
                                                  const std::string& identity,
                                                  std::string peer_description,
                                                  int send_timeout_ms) {
  std::unique_ptr<Dealer> dealer(new Dealer(context, std::move(peer_description)));
  try {
    dealer->socket_.set(zmq::sockopt::routing_id, identity);
    dealer->socket_.set(zmq::sockopt::linger, kLingerMs);
    dealer->socket_.set(zmq::sockopt::sndtimeo, send_timeout_ms);
    // Queue only to completed connections, so that an unreachable peer is a send
    // deadline rather than a message silently parked forever.
    dealer->socket_.set(zmq::sockopt::immediate, 1);
    dealer->socket_.set(zmq::sockopt::sndhwm, 0);
    dealer->socket_.set(zmq::sockopt::rcvhwm, 0);
    dealer->socket_.connect(endpoint);
  } catch (const zmq::error_t& e) {
    return Status::IOError("cannot connect to " + dealer->peer_description_ + ": " + ZmqError(e));
  }
  return dealer;
}

void Dealer::SetSendTimeout(int timeout_ms) { socket_.set(zmq::sockopt::sndtimeo, timeout_ms); }

Status Dealer::Send(Message msg) {
  Status s = SendMessage(socket_, nullptr, std::move(msg));
  if (!s.ok()) return s.WithContext("sending to " + peer_description_);
  return s;
}

StatusOr<bool> Dealer::Receive(Message* msg, int timeout_ms) {
  zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
  try {
    if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) == 0) return false;
  } catch (const zmq::error_t& e) {
    return Status::IOError("poll failed: " + ZmqError(e));
  }
  Status s = ReceiveWaiting(socket_, /*with_identity=*/false, msg, nullptr);
  if (!s.ok()) return s.WithContext("receiving from " + peer_description_);
  return true;
}

Status Dealer::ReceiveOrTimeout(Message* msg, int timeout_ms, const std::string& what) {
  ASSIGN_OR_RETURN(bool got, Receive(msg, timeout_ms));
  if (!got) {
    return Status::DeadlineExceeded("no reply from " + peer_description_ + " to " + what +
                                    " within " + std::to_string(timeout_ms) + " ms");
  }
  return Status::OK();
}

}  // namespace tessera::net
