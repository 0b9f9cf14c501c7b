#include "channel.hpp"

#include <unistd.h>

#include <csignal>
#include <mutex>
#include <stdexcept>

namespace latchkey::isolation {

struct Channel::Pipe {
  uv_pipe_t handle{};
  Channel* owner = nullptr;
  char buffer[64 * 1024];
};

namespace {

struct WriteRequest {
  uv_write_t request{};
  std::string bytes;
};

// libuv writes with write(2), and a write to a host that has just died
// raises SIGPIPE, whose default action ends the writer: the hub, or
// lk-certify, instead of the host. A closed peer must be an error the
// channel reports, so the first channel turns SIGPIPE's default action into
// "ignore" (a handler the program installed itself is left alone).
void ignore_sigpipe_unless_handled() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      struct sigaction ignore {};
      ignore.sa_handler = SIG_IGN;
      sigemptyset(&ignore.sa_mask);
      ::sigaction(SIGPIPE, &ignore, nullptr);
    }
  });
}

}  // namespace

Channel::Channel(uv_loop_t* loop, int fd, OnMessage on_message, OnClosed on_closed)
    : on_message_(std::move(on_message)), on_closed_(std::move(on_closed)) {
  ignore_sigpipe_unless_handled();
  pipe_ = new Pipe;
  pipe_->owner = this;
  uv_pipe_init(loop, &pipe_->handle, 0);
  pipe_->handle.data = pipe_;
  if (const int r = uv_pipe_open(&pipe_->handle, fd); r != 0) {
    ::close(fd);
    uv_close(reinterpret_cast<uv_handle_t*>(&pipe_->handle), [](uv_handle_t* h) { delete static_cast<Pipe*>(h->data); });
    pipe_ = nullptr;
    throw std::runtime_error(std::string("cannot use the socket: ") + uv_strerror(r));
  }
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&pipe_->handle),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* p = static_cast<Pipe*>(h->data);
        *buf = uv_buf_init(p->buffer, sizeof p->buffer);
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
        auto* p = static_cast<Pipe*>(s->data);
        if (p->owner != nullptr) p->owner->on_read(n, buf);
      });
}

Channel::~Channel() { close(); }

void Channel::close() {
  if (pipe_ == nullptr) return;
  pipe_->owner = nullptr;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&pipe_->handle));
  uv_close(reinterpret_cast<uv_handle_t*>(&pipe_->handle), [](uv_handle_t* h) { delete static_cast<Pipe*>(h->data); });
  pipe_ = nullptr;
}

std::size_t Channel::queued_bytes() const {
  return pipe_ == nullptr ? 0 : uv_stream_get_write_queue_size(reinterpret_cast<const uv_stream_t*>(&pipe_->handle));
}

bool Channel::send(const google::protobuf::MessageLite& message) {
  if (pipe_ == nullptr) return false;
  auto* w = new WriteRequest;
  append_frame(message.SerializeAsString(), &w->bytes);
  uv_buf_t buf = uv_buf_init(w->bytes.data(), static_cast<unsigned>(w->bytes.size()));
  const int r = uv_write(&w->request, reinterpret_cast<uv_stream_t*>(&pipe_->handle), &buf, 1,
                         [](uv_write_t* req, int) { delete reinterpret_cast<WriteRequest*>(req); });
  if (r != 0) {
    delete w;
    return false;
  }
  return true;
}

void Channel::on_read(ssize_t n, const uv_buf_t* buf) {
  if (n == UV_EOF) return fail("the peer closed the connection");
  if (n < 0) return fail(std::string("reading the socket failed: ") + uv_strerror(static_cast<int>(n)));
  reader_.feed(buf->base, static_cast<std::size_t>(n));
  while (pipe_ != nullptr) {
    std::optional<std::string> message = reader_.next();
    if (reader_.failed()) return fail(reader_.error());
    if (!message) break;
    on_message_(*message);  // may close the channel
  }
}

void Channel::fail(const std::string& why) {
  if (pipe_ == nullptr) return;
  OnClosed on_closed = on_closed_;
  close();
  if (on_closed) on_closed(why);
}

}  // namespace latchkey::isolation
