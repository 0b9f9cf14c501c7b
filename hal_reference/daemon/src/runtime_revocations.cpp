// [fleet] revocation lists (docs/fleet.md "Revocations"): an issuer
// publishes, retained, on latchkey/fleet/v1/<hub_id>/down/revocations/<its
// key id> the newest signed list of the grants of its own that this hub must refuse
// (G1). The hub verifies it against the issuer keys it pins for grants,
// keeps the newest list of each issuer in <data_dir>/revocations (mode 0600,
// replaced atomically and fsynced) BEFORE it applies it, and acknowledges
// it on .../up/revocations_applied only once it is kept (a list whose write
// failed is applied, unacknowledged, and written again when it comes again;
// an equal sequence with other bytes is refused). At start the kept lists are loaded
// before the engine exists, so no grant is admitted before they apply, with
// or without the fleet broker.
#include "runtime_revocations.hpp"

#include "runtime_impl.hpp"

#include <latchkey/fleet/revocation.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace latchkey::hub {
namespace {

constexpr off_t kMaxRevocationFileBytes = 64LL * 1024 * 1024;

[[noreturn]] void file_error(const std::filesystem::path& file, const std::string& what) {
  throw std::runtime_error("[fleet] " + file.string() + ": " + what);
}

// The kept lists' file: nullopt when there is none. Opened without following
// a link and checked on the descriptor: a regular file of the daemon's user,
// mode at most 0600.
std::optional<std::string> read_revocations_file(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    file_error(file, std::string("cannot open: ") + std::strerror(errno));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) file_error(file, std::string("cannot stat: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) file_error(file, "is not a regular file");
  if (st.st_uid != ::geteuid()) file_error(file, "is owned by another user");
  if ((st.st_mode & 077) != 0) file_error(file, "is readable or writable by others (expected mode 0600)");
  if (st.st_size > kMaxRevocationFileBytes)
    file_error(file, std::to_string(st.st_size) + " bytes, more than " + std::to_string(kMaxRevocationFileBytes));
  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) file_error(file, std::string("cannot read: ") + std::strerror(errno));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  bytes.resize(got);
  return bytes;
}

// Atomic replace: <file>.tmp created afresh (O_EXCL|O_NOFOLLOW, mode 0600),
// written and fsynced, renamed over `file`, then the directory fsynced.
void write_revocations_file(const std::filesystem::path& file, const std::string& bytes) {
  std::filesystem::path temp = file;
  temp += ".tmp";
  if (::unlink(temp.c_str()) != 0 && errno != ENOENT)
    file_error(temp, std::string("cannot remove: ") + std::strerror(errno));
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) file_error(temp, std::string("cannot create: ") + std::strerror(errno));
  std::size_t written = 0;
  bool ok = true;
  while (ok && written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ok = false;
    else written += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int saved = errno;
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    ::unlink(temp.c_str());
    file_error(temp, std::string("cannot write: ") + std::strerror(saved));
  }
  if (::rename(temp.c_str(), file.c_str()) != 0) file_error(file, std::string("cannot rename: ") + std::strerror(errno));
  const int dir = ::open(file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) file_error(file.parent_path(), std::string("cannot open: ") + std::strerror(errno));
  const bool synced = ::fsync(dir) == 0;
  ::close(dir);
  if (!synced) file_error(file.parent_path(), std::string("cannot fsync: ") + std::strerror(errno));
}

}  // namespace

std::filesystem::path revocations_path(const std::filesystem::path& data_dir) { return data_dir / "revocations"; }

KeptRevocations read_kept_revocations(const DaemonConfig& config) {
  KeptRevocations out;
  const std::filesystem::path file = revocations_path(config.data_dir);
  const std::optional<std::string> bytes = read_revocations_file(file);
  if (!bytes) return out;
  auto lists = fleet::decode_stored_revocation_lists(*bytes);
  if (auto* problem = std::get_if<std::string>(&lists))
    file_error(file, *problem + "; the kept revocation lists cannot be read (move the file aside to start without "
                                "them: each issuer's retained list comes again from the fleet broker)");
  const fleet::IssuerKeyLookup pinned = [&config](const std::string& key_id) -> std::optional<crypto::PublicKey> {
    const auto k = config.issuers.find(key_id);
    if (k == config.issuers.end()) return std::nullopt;
    return k->second;
  };
  for (const std::string& signed_list : std::get<std::vector<std::string>>(lists)) {
    const auto* data = reinterpret_cast<const uint8_t*>(signed_list.data());
    auto decoded = fleet::decode_signed_revocation_list(data, signed_list.size(), config.fleet.hub_id, pinned);
    if (auto* problem = std::get_if<std::string>(&decoded)) {
      // Only an issuer no longer configured is skipped: its grants are
      // refused anyway (G1, unknown key). Anything else (a bad signature, a
      // list for another hub, a malformed list) stops the start: the file
      // was written by this hub, so it has been altered or damaged.
      auto peeked = fleet::peek_revocation_list(data, signed_list.size());
      if (auto* list = std::get_if<fleet::RevocationList>(&peeked);
          list && config.issuers.find(list->issuer_key_id) == config.issuers.end()) {
        out.skipped.push_back(file.string() + ": the kept revocation list " + list->issuer_key_id + " #" +
                              std::to_string(list->sequence) + " is dropped: issuer '" + list->issuer_key_id +
                              "' is no longer configured (no [issuer] pins that key id)");
        continue;
      }
      file_error(file, "a kept revocation list does not verify: " + *problem +
                           "; the start stops rather than admit grants it may revoke (move the file aside to start "
                           "without the kept lists: each issuer's retained list comes again from the fleet broker)");
    }
    fleet::RevocationList& list = std::get<fleet::RevocationList>(decoded);
    out.lists.push_back({list.issuer_key_id, list.sequence, std::move(list.grant_ids), signed_list});
  }
  return out;
}

fleet::IssuerKeyLookup Runtime::Impl::issuer_key_lookup() const {
  return [this](const std::string& key_id) -> std::optional<crypto::PublicKey> {
    const auto k = config.issuers.find(key_id);
    if (k == config.issuers.end()) return std::nullopt;
    return k->second;
  };
}

void Runtime::Impl::load_revocations(gate::GateSetup& setup) {
  KeptRevocations kept = read_kept_revocations(config);
  // An issuer no longer pinned: its grants are refused anyway (G1, unknown key).
  for (const std::string& line : kept.skipped) log_line("info", "[fleet] " + line);
  for (KeptRevocationList& list : kept.lists) {
    setup.revoked_by_issuer[list.issuer_key_id] = list.grants;
    log_line("info", "[fleet] revocation list " + list.issuer_key_id + " #" + std::to_string(list.sequence) +
                         " in force (kept): " + std::to_string(list.grants.size()) + " grant(s) revoked");
    revocation_lists[list.issuer_key_id] =
        HeldRevocations{list.sequence, std::move(list.grants), std::move(list.signed_bytes), true};
  }
}

bool Runtime::Impl::keep_revocations(const std::string& name) {
  std::vector<std::string> kept;
  for (const auto& [issuer, h] : revocation_lists) kept.push_back(h.signed_bytes);
  try {
    write_revocations_file(revocations_path(config.data_dir), fleet::encode_stored_revocation_lists(kept));
  } catch (const std::exception& e) {
    log_line("error", std::string("[fleet] revocation ") + name +
                          " could not be kept (applied until the hub stops, not acknowledged; the write is tried "
                          "again when the list comes again): " + e.what());
    return false;
  }
  // Every held list is in the file now.
  for (auto& [issuer, h] : revocation_lists) h.durable = true;
  return true;
}

void Runtime::Impl::fleet_revocations(const std::string& topic_issuer, const std::string& payload) {
  auto decoded = fleet::decode_signed_revocation_list(reinterpret_cast<const uint8_t*>(payload.data()),
                                                      payload.size(), config.fleet.hub_id, issuer_key_lookup());
  if (auto* problem = std::get_if<std::string>(&decoded)) {
    log_line("error", "[fleet] revocation list ignored, nothing applied: " + *problem);
    return;
  }
  fleet::RevocationList& list = std::get<fleet::RevocationList>(decoded);
  const std::string name = "list " + list.issuer_key_id + " #" + std::to_string(list.sequence);
  // Each issuer's list is retained on its own topic: a list on another
  // issuer's topic would replace that issuer's retained list on the broker.
  if (list.issuer_key_id != topic_issuer) {
    log_line("error", "[fleet] revocation " + name + " ignored, nothing applied: issuer '" + list.issuer_key_id +
                          "' received on the topic of issuer '" + topic_issuer + "' (down/revocations/" +
                          topic_issuer + ")");
    return;
  }
  const auto held = revocation_lists.find(list.issuer_key_id);
  const std::optional<uint64_t> held_sequence =
      held == revocation_lists.end() ? std::nullopt : std::optional<uint64_t>(held->second.sequence);
  switch (fleet::judge_sequence(held_sequence, list.sequence)) {
    case fleet::SequenceVerdict::kOlder:
      log_line("info", "[fleet] revocation " + name + " ignored: older than #" + std::to_string(*held_sequence) +
                           " in force");
      return;
    case fleet::SequenceVerdict::kSame:
      if (payload != held->second.signed_bytes) {
        log_line("error", "[fleet] revocation " + name +
                              ": same sequence, different list: ignored; the issuer must use a larger sequence");
        return;
      }
      if (!held->second.durable) {
        // Applied, but its write failed: tried again; acknowledged once kept.
        if (!keep_revocations(name)) return;
        log_line("info", "[fleet] revocation " + name + " in force, now kept");
        fleet_ack_revocations(list.issuer_key_id, list.sequence);
        return;
      }
      // The retained list again (a reconnect): already applied and kept.
      // The acknowledgement is repeated in case the first one was lost.
      log_line("info", "[fleet] revocation " + name + " ignored: already in force");
      fleet_ack_revocations(list.issuer_key_id, list.sequence);
      return;
    case fleet::SequenceVerdict::kNewer: break;
  }
  // Durable before applied: a restart, with or without the fleet broker,
  // must still refuse what was acknowledged. A failed write still applies
  // the list (it only revokes more) but holds it as not durable.
  revocation_lists[list.issuer_key_id] = HeldRevocations{list.sequence, list.grant_ids, payload, false};
  const bool durable = keep_revocations(name);
  const std::size_t added = engine->set_issuer_revocations(list.issuer_key_id, list.grant_ids,
                                                           "revoked by " + name, now());
  log_line("info", "[fleet] revocation " + name + " applied: " + std::to_string(list.grant_ids.size()) +
                       " grant(s) revoked, " + std::to_string(added) + " newly");
  if (durable) fleet_ack_revocations(list.issuer_key_id, list.sequence);
}

void Runtime::Impl::fleet_ack_revocations(const std::string& issuer_key_id, uint64_t sequence) {
  if (!fleet_link) return;
  // Sent directly on the link (QoS 1); an outbox would also carry it across
  // an outage, as the retained list is received again on reconnect anyway.
  const std::string bytes =
      fleet::encode_revocations_applied({config.fleet.hub_id, issuer_key_id, sequence, wall_ms()});
  std::string error;
  if (!fleet_link->publish(fleet::revocations_applied_topic(config.fleet.hub_id),
                           reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), 1, &error))
    log_line("info", "[fleet] revocations applied (" + issuer_key_id + " #" + std::to_string(sequence) +
                         ") not acknowledged (again on reconnect): " + error);
}

}  // namespace latchkey::hub
