// The witness's durable memory (docs/fleet.md): per hub, the newest audit
// checkpoint it has been sent, in SQLite (WAL, synchronous=FULL: a call
// returns once the change is on disk). One object, one thread.
#ifndef LATCHKEY_FLEET_WITNESS_STORE_HPP
#define LATCHKEY_FLEET_WITNESS_STORE_HPP

#include <latchkey/audit/checkpoint.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

struct sqlite3;

namespace latchkey::fleet {

class WitnessStoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct StoredCheckpoint {
  audit::Checkpoint checkpoint;
  bool fork_seen = false;  // another head was offered at this size
};

class WitnessStore {
 public:
  // Creates the file and its table when missing. Throws WitnessStoreError
  // naming the file and SQLite's message.
  explicit WitnessStore(const std::filesystem::path& path);
  ~WitnessStore();
  WitnessStore(const WitnessStore&) = delete;
  WitnessStore& operator=(const WitnessStore&) = delete;

  enum class Offer {
    kStored,   // newer (larger size) than what was held, or the first: now held
    kSame,     // exactly what is held
    kOlder,    // smaller size: ignored
    kFork,     // same size, another head: the first is kept, fork_seen set
  };
  // `cp` must already be checked against the hub's key.
  Offer offer(const std::string& hub_id, const audit::Checkpoint& cp);
  std::optional<StoredCheckpoint> newest(const std::string& hub_id);
  // A person's decision after a rollback alarm (docs/fleet.md): forgets the
  // hub's checkpoint so the hub's next (recovered) log is accepted. True
  // when something was forgotten.
  bool forget(const std::string& hub_id);

 private:
  void exec(const char* sql, const char* what);
  sqlite3* db_ = nullptr;
  std::string path_;
};

std::string_view name(WitnessStore::Offer offer);

}  // namespace latchkey::fleet

#endif  // LATCHKEY_FLEET_WITNESS_STORE_HPP
