// The hub's judgement of a witness's answer against its own audit log
// (docs/fleet.md): a pure function, no I/O.
#ifndef LATCHKEY_FLEET_VERDICT_HPP
#define LATCHKEY_FLEET_VERDICT_HPP

#include <latchkey/fleet/protocol.hpp>

#include <functional>
#include <optional>
#include <string>

namespace latchkey::fleet {

// What the hub's log looks like, as far as the verdict needs it.
struct LocalLogView {
  uint64_t size = 0;  // records in the log: seq 1 .. size
  // The hash of record `seq` (1 <= seq <= size) of the local log; nullopt
  // when it cannot be read (the verdict is then kDiverged: the log cannot
  // show it extends the witness's checkpoint).
  std::function<std::optional<audit::Digest>(uint64_t seq)> hash_at;
};

struct WitnessVerdict {
  enum class Kind {
    kOk,         // the witness holds nothing, or a checkpoint the local log extends
    kBehind,     // the local log is shorter than the witness's checkpoint: rolled back or cut
    kDiverged,   // record `size` of the local log does not hash to the witness's head
    kBadAnswer,  // not an answer to this query (hub id, nonce) or the checkpoint is not the hub's
  };
  Kind kind = Kind::kBadAnswer;
  std::string detail;  // for people: what the witness holds and what the log has
};
std::string_view name(WitnessVerdict::Kind kind);

// `answer` is already decoded with the witness's signature checked
// (decode_signed_answer); this checks it answers `nonce` for `hub_id`, that
// its checkpoint is signed by the hub key, and compares it with the log.
WitnessVerdict witness_verdict(const LocalLogView& log, const Answer& answer, std::string_view hub_id,
                               crypto::ByteView nonce, const crypto::PublicKey& hub_key);

}  // namespace latchkey::fleet

#endif  // LATCHKEY_FLEET_VERDICT_HPP
