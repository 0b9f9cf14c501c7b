// A file the fuzz targets whose decoder reads a path (the net_camera password
// file, the camera agent's --config file) write each input into: an
// anonymous memory file (memfd), reached as /proc/self/fd/<n>, so every run
// reopens it from its first byte and nothing touches a disk or outlives the
// process.
#ifndef LATCHKEY_FUZZ_SUPPORT_SCRATCH_FILE_HPP
#define LATCHKEY_FUZZ_SUPPORT_SCRATCH_FILE_HPP

#include "support/fuzz_input.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace latchkey::fuzz {

class ScratchFile {
 public:
  ScratchFile() : fd_(::memfd_create("lk-fuzz", MFD_CLOEXEC)) {
    LK_FUZZ_CHECK(fd_ >= 0, "memfd_create failed (the harness, not the decoder)");
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  // Replaces the contents and sets the permission bits.
  void write(const std::string& contents, mode_t mode = 0600) {
    bool ok = ::ftruncate(fd_, 0) == 0 && ::fchmod(fd_, mode) == 0;
    std::size_t done = 0;
    while (ok && done < contents.size()) {
      const ssize_t n = ::pwrite(fd_, contents.data() + done, contents.size() - done, static_cast<off_t>(done));
      ok = n > 0;
      if (ok) done += static_cast<std::size_t>(n);
    }
    LK_FUZZ_CHECK(ok, "writing the scratch file failed (the harness, not the decoder)");
  }

  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

}  // namespace latchkey::fuzz

#endif  // LATCHKEY_FUZZ_SUPPORT_SCRATCH_FILE_HPP
