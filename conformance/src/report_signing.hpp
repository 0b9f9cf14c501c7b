// Signed certification reports (lk-certify --sign-key, --verify-report).
//
// The lab's Ed25519 key signs a manifest of the JSON report: one entry per
// leaf (a string, number, true/false/null, or an empty array or object) in
// report order, its path ("cases[12].verdict", "provenance.operator") and
// the SHA-256 of its canonical value (the decoded text of a string, the
// literal text of any other leaf, after a type tag). The manifest and the
// signature go into the report's top-level "signature" object, the last
// member; everything else is covered. Verification checks the signature
// over the manifest with the trusted key, then recomputes the manifest and
// names the first entry that differs: a changed value, a field added or a
// field removed. Keys are lkctl's key files (hal_reference/cli key_files.hpp:
// the 32-byte seed as hex, mode 0600; the public key as hex in a .pub file).
#ifndef LATCHKEY_CERTIFY_REPORT_SIGNING_HPP
#define LATCHKEY_CERTIFY_REPORT_SIGNING_HPP

#include <latchkey/crypto/crypto.hpp>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::certify {

// A JSON text that does not parse: what and at which byte.
class JsonError : public std::runtime_error {
 public:
  JsonError(const std::string& what, std::size_t offset);
  std::size_t offset() const { return offset_; }

 private:
  std::size_t offset_;
};

// One leaf of a JSON document, in document order.
struct JsonLeaf {
  std::string path;       // members by name ("a.b"), array items by index ("a[3]"); names that are not
                          // identifiers are quoted (a["x.y"])
  std::string canonical;  // type tag and value: "s:" decoded string, "n:" number text, "b:true", "null", "[]", "{}"
  std::size_t begin = 0;  // the leaf's bytes in the text: [begin, end)
  std::size_t end = 0;
};

// Leaves of a JSON text whose top level is an object, leaving out the
// top-level member named `skip` (and everything under it). Throws JsonError.
std::vector<JsonLeaf> json_leaves(std::string_view text, std::string_view skip = {});

struct ManifestEntry {
  std::string path;
  std::string sha256;  // hex
};

// The manifest of a JSON report: every leaf but the "signature" member's.
std::vector<ManifestEntry> report_manifest(std::string_view json);

inline constexpr std::string_view kReportSignatureDomain = "latchkey.certification-report.v1";
inline constexpr std::string_view kReportSignatureAlgorithm = "ed25519-manifest-v1";

// The report with its "signature" member added. Throws JsonError (not JSON)
// or std::invalid_argument (not an object, or already signed).
std::string sign_report(std::string_view json, const crypto::KeyPair& key);

struct Verification {
  bool ok = false;
  bool malformed = false;  // not JSON, or not a report this can check (no signature, bad signature fields)
  std::string message;     // why not, naming the first difference; or what verified
};

Verification verify_report(std::string_view json, const crypto::PublicKey& trusted);

// Reads a key file as lkctl keygen writes it; throws std::runtime_error naming the file.
crypto::KeyPair read_lab_key(const std::string& path);
crypto::PublicKey read_trusted_key(const std::string& path);
// lkctl keygen's pair of files: <name>.key (secret, 0600) and <name>.pub. Throws on failure or when either exists.
crypto::PublicKey make_lab_key(const std::string& name);

}  // namespace latchkey::certify

#endif  // LATCHKEY_CERTIFY_REPORT_SIGNING_HPP
