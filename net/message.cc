#include "net/message.h"

namespace tessera::net {

zmq::message_t FrameFromProto(const google::protobuf::MessageLite& body) {
  std::string bytes = body.SerializeAsString();
  return zmq::message_t(bytes.data(), bytes.size());
}

Status ParseBody(const Message& msg, size_t index, google::protobuf::MessageLite* body) {
  if (index >= msg.frames.size()) {
    return Status::Corruption("message kind " + pb::MessageKind_Name(msg.header.kind()) +
                              " lacks its body frame");
  }
  const zmq::message_t& f = msg.frames[index];
  if (!body->ParseFromArray(f.data(), static_cast<int>(f.size()))) {
    return Status::Corruption("cannot parse the body of a " +
                              pb::MessageKind_Name(msg.header.kind()) + " message");
  }
  return Status::OK();
}

}  // namespace tessera::net
