#include <latchkey/audit/audit_error.hpp>
#include <latchkey/audit/checkpoint.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace latchkey::audit {

namespace {

void put_u64(crypto::Bytes& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(value >> shift));
}

template <std::size_t N>
bool hex_to_array(std::string_view hex, std::array<uint8_t, N>& out) {
  if (hex.size() != 2 * N) return false;
  const auto bytes = crypto::from_hex(hex);
  if (!bytes || bytes->size() != N) return false;
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return true;
}

template <typename Int>
bool parse_int(std::string_view text, Int& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// The text between `key` and `terminator` in `text`, from `pos` on.
std::optional<std::string_view> take(std::string_view text, std::size_t& pos, std::string_view key,
                                     std::string_view terminator) {
  if (text.substr(pos, key.size()) != key) return std::nullopt;
  pos += key.size();
  const std::size_t end = text.find(terminator, pos);
  if (end == std::string_view::npos) return std::nullopt;
  const std::string_view value = text.substr(pos, end - pos);
  pos = end + terminator.size();
  return value;
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

crypto::Bytes checkpoint_message(const Checkpoint& cp) {
  crypto::Bytes out;
  out.reserve(8 + cp.head.size() + 16);
  put_u64(out, cp.size);
  out.insert(out.end(), cp.head.begin(), cp.head.end());
  put_u64(out, static_cast<uint64_t>(cp.wall_ms));
  put_u64(out, static_cast<uint64_t>(cp.mono_ns));
  return out;
}

void sign_checkpoint(Checkpoint& cp, const crypto::SecretKey& hub_secret_key) {
  cp.signature = crypto::sign(kCheckpointDomain, checkpoint_message(cp), hub_secret_key);
}

bool verify_checkpoint(const Checkpoint& cp, const crypto::PublicKey& hub_public_key) {
  return crypto::verify(kCheckpointDomain, checkpoint_message(cp), cp.signature, hub_public_key);
}

std::string checkpoint_detail(const Checkpoint& cp) {
  return "{\"size\":" + std::to_string(cp.size) + ",\"head\":\"" + crypto::to_hex(cp.head) + "\",\"sig\":\"" +
         crypto::to_hex(cp.signature) + "\"}";
}

std::optional<Checkpoint> checkpoint_from_record(const AuditRecord& record) {
  if (record.entry.type != kCheckpointType) return std::nullopt;
  const std::string_view detail = record.entry.detail;
  Checkpoint cp;
  cp.wall_ms = record.wall_ms;
  cp.mono_ns = record.mono_ns;
  std::size_t pos = 0;
  const auto size = take(detail, pos, "{\"size\":", ",");
  const auto head = take(detail, pos, "\"head\":\"", "\"");
  const auto sig = take(detail, pos, ",\"sig\":\"", "\"");
  if (!size || !head || !sig || !parse_int(*size, cp.size) || !hex_to_array(*head, cp.head) ||
      !hex_to_array(*sig, cp.signature)) {
    return std::nullopt;
  }
  // Only the one canonical spelling is a checkpoint.
  if (checkpoint_detail(cp) != detail) return std::nullopt;
  return cp;
}

std::string encode_head_file(const Checkpoint& cp) {
  return "latchkey-audit-head v1\nsize " + std::to_string(cp.size) + "\nhead " + crypto::to_hex(cp.head) +
         "\nwall_ms " + std::to_string(cp.wall_ms) + "\nmono_ns " + std::to_string(cp.mono_ns) + "\nsignature " +
         crypto::to_hex(cp.signature) + "\n";
}

std::optional<Checkpoint> parse_head_file(std::string_view text) {
  Checkpoint cp;
  std::size_t pos = 0;
  if (!take(text, pos, "latchkey-audit-head v1", "\n")) return std::nullopt;
  const auto size = take(text, pos, "size ", "\n");
  const auto head = take(text, pos, "head ", "\n");
  const auto wall = take(text, pos, "wall_ms ", "\n");
  const auto mono = take(text, pos, "mono_ns ", "\n");
  const auto sig = take(text, pos, "signature ", "\n");
  if (!size || !head || !wall || !mono || !sig || !parse_int(*size, cp.size) || !hex_to_array(*head, cp.head) ||
      !parse_int(*wall, cp.wall_ms) || !parse_int(*mono, cp.mono_ns) || !hex_to_array(*sig, cp.signature)) {
    return std::nullopt;
  }
  if (encode_head_file(cp) != text) return std::nullopt;
  return cp;
}

std::filesystem::path head_file_path(const std::filesystem::path& db_path) {
  std::filesystem::path head = db_path;
  head += ".head";
  return head;
}

std::optional<Checkpoint> read_head_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (ec) throw AuditError("audit: head file " + path.string() + ": " + ec.message());
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) throw AuditError("audit: head file " + path.string() + ": cannot read");
  auto cp = parse_head_file(text.str());
  if (!cp) throw AuditError("audit: head file " + path.string() + ": malformed");
  return cp;
}

void write_head_file(const std::filesystem::path& path, const Checkpoint& cp) {
  const std::string text = encode_head_file(cp);
  std::filesystem::path temp = path;
  temp += ".tmp";
  const auto fail = [&](const char* step) {
    throw AuditError("audit: head file " + path.string() + ": " + step + ": " + errno_text());
  };
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("create temp file");
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      errno = saved;
      fail("write temp file");
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    fail("fsync temp file");
  }
  if (::close(fd) != 0) fail("close temp file");
  if (::rename(temp.c_str(), path.c_str()) != 0) fail("rename");
  // The rename is durable only once the directory entry is.
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) fail("open directory");
  if (::fsync(dir_fd) != 0) {
    const int saved = errno;
    ::close(dir_fd);
    errno = saved;
    fail("fsync directory");
  }
  ::close(dir_fd);
}

}  // namespace latchkey::audit
