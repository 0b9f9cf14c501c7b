#include "ffmpeg_util.hpp"

#include <mutex>

namespace latchkey::camera {

std::string av_error_text(int error) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  if (av_strerror(error, text, sizeof text) != 0) return "FFmpeg error " + std::to_string(error);
  return text;
}

void init_ffmpeg() {
  static std::once_flag once;
  std::call_once(once, [] {
    avdevice_register_all();
    av_log_set_level(AV_LOG_ERROR);
  });
}

}  // namespace latchkey::camera
