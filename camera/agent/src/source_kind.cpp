#include "source_kind.hpp"

#include <array>
#include <string_view>

namespace latchkey::camera {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// "rtsp://user:secret@host/path" -> "rtsp://host/path": the hello is
// retained on the broker and shown to people, so it must carry no secret.
std::string strip_credentials(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  const auto authority = scheme_end + 3;
  const auto authority_end = url.find_first_of("/?#", authority);
  const auto at = url.rfind('@', authority_end == std::string::npos ? std::string::npos : authority_end);
  if (at == std::string::npos || at < authority) return url;
  return url.substr(0, authority) + url.substr(at + 1);
}

}  // namespace

SourceLocation locate_source(const std::string& source) {
  SourceLocation loc;
  static constexpr std::array<std::string_view, 8> kNetworkSchemes = {
      "rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://", "srt://"};
  if (starts_with(source, "lavfi:")) {
    loc.kind = SourceKind::kLavfi;
    loc.format = "lavfi";
    loc.url = source.substr(6);
    loc.description = source;
    return loc;
  }
  if (starts_with(source, "v4l2:") || starts_with(source, "/dev/video")) {
    loc.kind = SourceKind::kV4l2;
    loc.format = "video4linux2";
    loc.url = starts_with(source, "v4l2:") ? source.substr(5) : source;
    loc.description = "v4l2:" + loc.url;
    return loc;
  }
  for (const auto scheme : kNetworkSchemes) {
    if (starts_with(source, scheme)) {
      loc.kind = SourceKind::kNetwork;
      loc.url = source;
      loc.description = strip_credentials(source);
      return loc;
    }
  }
  loc.kind = SourceKind::kFile;
  // "file:" keeps a path with a colon from being read as a protocol.
  loc.url = starts_with(source, "file:") ? source : "file:" + source;
  loc.description = "file:" + (starts_with(source, "file:") ? source.substr(5) : source);
  return loc;
}

const char* source_kind_name(SourceKind kind) {
  switch (kind) {
    case SourceKind::kV4l2: return "v4l2";
    case SourceKind::kNetwork: return "network";
    case SourceKind::kLavfi: return "lavfi";
    case SourceKind::kFile: return "file";
  }
  return "unknown";
}

}  // namespace latchkey::camera
