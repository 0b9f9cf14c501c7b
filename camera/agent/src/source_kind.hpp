// What kind of thing a --source names, how FFmpeg opens it, and how it is
// described to people (in the hello) without any credentials it may carry.
#pragma once

#include <string>

namespace latchkey::camera {

enum class SourceKind {
  kV4l2,     // /dev/videoN (or v4l2:<path>): a local camera, paced by itself
  kNetwork,  // rtsp://, rtsps://, rtmp://, http(s)://, udp://, tcp://, srt://: paced by the sender
  kLavfi,    // lavfi:<filtergraph>, e.g. lavfi:testsrc2=size=1280x720:rate=10 (synthetic)
  kFile,     // anything else: a file path (or file:<path>), read at its native rate
};

struct SourceLocation {
  SourceKind kind = SourceKind::kFile;
  std::string format;       // the libavformat input format to force, or empty to probe
  std::string url;          // what avformat_open_input opens
  std::string description;  // for people: the source with user:password@ removed
};

SourceLocation locate_source(const std::string& source);

// A live source delivers frames at its own pace and is reopened when it
// fails; the others are read at their native rate (like ffmpeg -re) and end.
inline bool is_live(SourceKind kind) { return kind == SourceKind::kV4l2 || kind == SourceKind::kNetwork; }

const char* source_kind_name(SourceKind kind);

}  // namespace latchkey::camera
