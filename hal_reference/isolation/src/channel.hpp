// A framed protobuf channel over a connected Unix stream socket on a libuv
// loop: both lk-plugin-host and the hub's supervisor speak through one.
#ifndef LATCHKEY_ISOLATION_CHANNEL_HPP
#define LATCHKEY_ISOLATION_CHANNEL_HPP

#include <latchkey/isolation/frame.hpp>

#include <google/protobuf/message_lite.h>
#include <uv.h>

#include <functional>
#include <string>

namespace latchkey::isolation {

class Channel {
 public:
  using OnMessage = std::function<void(const std::string& bytes)>;  // one frame
  using OnClosed = std::function<void(const std::string& why)>;     // EOF, read error or oversized frame

  // Takes ownership of fd (a connected stream socket) and starts reading.
  // The first channel in a process sets SIGPIPE to SIG_IGN if it still has
  // its default action, so a send to a dead peer closes the channel instead
  // of killing the process. Throws std::runtime_error when libuv refuses the descriptor.
  Channel(uv_loop_t* loop, int fd, OnMessage on_message, OnClosed on_closed);
  ~Channel();  // closes (no callback)
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Queues one framed message; false once the channel is closed.
  bool send(const google::protobuf::MessageLite& message);
  // Stops reading and closes the socket; on_closed is not called.
  void close();
  bool open() const noexcept { return pipe_ != nullptr; }
  std::size_t queued_bytes() const;

 private:
  struct Pipe;
  void on_read(ssize_t n, const uv_buf_t* buf);
  void fail(const std::string& why);

  Pipe* pipe_ = nullptr;
  FrameReader reader_;
  OnMessage on_message_;
  OnClosed on_closed_;
};

}  // namespace latchkey::isolation

#endif  // LATCHKEY_ISOLATION_CHANNEL_HPP
