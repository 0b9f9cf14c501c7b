// The body of both plugin-host frame targets: a byte stream from the other
// process, cut by FrameReader (hal_reference/isolation/src/frame.cpp) into
// messages, each parsed as the receiving end parses it.
//
// Input: one byte choosing how the stream is split into reads (1-64 bytes
// at a time, as a socket may deliver it), then the stream.
// Properties: the messages returned, framed again, are exactly the bytes
// consumed; nothing is returned after a failure; what is left is buffered.
#ifndef LATCHKEY_FUZZ_SUPPORT_FRAME_STREAM_HPP
#define LATCHKEY_FUZZ_SUPPORT_FRAME_STREAM_HPP

#include <latchkey/isolation/frame.hpp>

#include "support/fixed_world.hpp"

namespace latchkey::fuzz {

// on_message(message_bytes) parses and reads one message as the receiver would.
template <typename OnMessage>
void run_frame_stream(const uint8_t* data, std::size_t size, OnMessage on_message) {
  InputCursor in(data, size);
  const std::size_t read_size = in.byte() % 64 + 1;
  const std::string stream = in.rest();

  isolation::FrameReader reader;
  std::string reframed;
  std::size_t fed = 0;
  while (fed < stream.size() && !reader.failed()) {
    const std::size_t n = std::min(read_size, stream.size() - fed);
    reader.feed(stream.data() + fed, n);
    fed += n;
    while (std::optional<std::string> message = reader.next()) {
      LK_FUZZ_CHECK(message->size() <= isolation::kMaxFrameBytes, "a message over the frame limit");
      isolation::append_frame(*message, &reframed);
      on_message(*message);
    }
  }
  LK_FUZZ_CHECK(stream.compare(0, reframed.size(), reframed) == 0, "messages differ from the bytes consumed");
  if (reader.failed()) {
    LK_FUZZ_CHECK(!reader.next(), "a message after the stream failed");
  } else {
    LK_FUZZ_CHECK(reframed.size() + reader.buffered() == stream.size(), "bytes lost between frames");
  }
}

}  // namespace latchkey::fuzz

#endif  // LATCHKEY_FUZZ_SUPPORT_FRAME_STREAM_HPP
