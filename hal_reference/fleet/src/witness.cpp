#include <latchkey/fleet/witness.hpp>

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace latchkey::fleet {
namespace {

void load_file(const std::filesystem::path& file, std::map<std::string, crypto::PublicKey>& keys) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("hub keys " + file.string() + ": cannot be read");
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string where = "hub keys " + file.string() + " line " + std::to_string(number) + ": ";
    if (const std::size_t hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.pop_back();
    std::size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos) continue;
    line.erase(0, start);
    const std::size_t space = line.find_first_of(" \t");
    if (space == std::string::npos) throw std::runtime_error(where + "expected '<hub_id> <64 hex digits>'");
    const std::string hub = line.substr(0, space);
    std::string hex = line.substr(space);
    hex.erase(0, hex.find_first_not_of(" \t"));
    if (std::string p = hub_id_problem(hub); !p.empty()) throw std::runtime_error(where + "hub id '" + hub + "' " + p);
    const auto bytes = crypto::from_hex(hex);
    if (!bytes || bytes->size() != 32)
      throw std::runtime_error(where + "the key of '" + hub + "' must be 64 hex digits (an Ed25519 public key)");
    crypto::PublicKey key;
    std::copy(bytes->begin(), bytes->end(), key.begin());
    if (!keys.emplace(hub, key).second) throw std::runtime_error(where + "hub '" + hub + "' is listed twice");
  }
}

}  // namespace

std::map<std::string, crypto::PublicKey> load_hub_keys(const std::filesystem::path& file_or_dir) {
  std::map<std::string, crypto::PublicKey> keys;
  std::error_code ec;
  if (std::filesystem::is_directory(file_or_dir, ec)) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(file_or_dir))
      if (entry.is_regular_file()) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) load_file(f, keys);
  } else {
    load_file(file_or_dir, keys);
  }
  return keys;
}

Witness::Witness(std::map<std::string, crypto::PublicKey> hub_keys, WitnessStore& store, crypto::KeyPair witness_key,
                 std::function<void(const std::string&)> log, std::function<int64_t()> wall_ms)
    : hub_keys_(std::move(hub_keys)),
      store_(store),
      key_(witness_key),
      log_(std::move(log)),
      wall_ms_(std::move(wall_ms)) {}

std::optional<Reply> Witness::handle(std::string_view topic_name, const uint8_t* data, std::size_t size) {
  const std::optional<ParsedTopic> t = parse_topic(topic_name);
  if (!t || t->channel == Channel::kAnswer) return std::nullopt;  // our own answers, or nothing of ours
  const std::string from = "hub '" + t->hub_id + "': ";
  const auto key = hub_keys_.find(t->hub_id);
  if (key == hub_keys_.end()) {
    log_(from + "unknown hub (no key in the hub keys): message on " + std::string(topic_name) + " ignored");
    return std::nullopt;
  }
  if (t->channel == Channel::kCheckpoint) {
    auto decoded = decode_checkpoint(data, size);
    if (auto* problem = std::get_if<std::string>(&decoded)) {
      log_(from + "bad payload ignored, nothing stored: " + *problem);
      return std::nullopt;
    }
    const HubCheckpoint& hc = std::get<HubCheckpoint>(decoded);
    if (hc.hub_id != t->hub_id) {
      log_(from + "checkpoint names hub '" + hc.hub_id + "': ignored, nothing stored");
      return std::nullopt;
    }
    if (!audit::verify_checkpoint(hc.checkpoint, key->second)) {
      log_(from + "checkpoint size " + std::to_string(hc.checkpoint.size) +
           " is not signed by the hub's key: ignored, nothing stored");
      return std::nullopt;
    }
    const WitnessStore::Offer o = store_.offer(t->hub_id, hc.checkpoint);
    if (o == WitnessStore::Offer::kFork)
      log_(from + "FORK: checkpoint size " + std::to_string(hc.checkpoint.size) + " head " +
           crypto::to_hex(hc.checkpoint.head) + " differs from the one held; the first is kept");
    else if (o == WitnessStore::Offer::kStored)
      log_(from + "checkpoint size " + std::to_string(hc.checkpoint.size) + " stored");
    else if (o == WitnessStore::Offer::kOlder)
      log_(from + "checkpoint size " + std::to_string(hc.checkpoint.size) + " is older than the one held: ignored");
    return std::nullopt;
  }
  auto decoded = decode_query(data, size);
  if (auto* problem = std::get_if<std::string>(&decoded)) {
    log_(from + "bad payload ignored: " + *problem);
    return std::nullopt;
  }
  const Query& q = std::get<Query>(decoded);
  if (q.hub_id != t->hub_id) {
    log_(from + "query names hub '" + q.hub_id + "': ignored");
    return std::nullopt;
  }
  Answer a;
  a.hub_id = q.hub_id;
  a.nonce = q.nonce;
  a.witness_wall_ms = wall_ms_();
  if (const std::optional<StoredCheckpoint> held = store_.newest(q.hub_id)) {
    a.checkpoint = held->checkpoint;
    a.fork_seen = held->fork_seen;
  }
  log_(from + "query answered with " +
       (a.checkpoint ? "checkpoint size " + std::to_string(a.checkpoint->size) : std::string("none")));
  return Reply{topic(q.hub_id, Channel::kAnswer), encode_signed_answer(a, key_.secret_key)};
}

}  // namespace latchkey::fleet
