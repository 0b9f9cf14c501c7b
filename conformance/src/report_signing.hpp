// Signed certification reports (lk-certify --sign-key, --verify-report).
//
// The lab's Ed25519 key signs a manifest of the JSON report: one entry per
// leaf (a string, number, true/false/null, or an empty array or object) in
// report order, its path ("cases[12].verdict", "provenance.operator") and
// the SHA-256 of its canonical value (after a type tag: the decoded text of
// a string, a number's value in one canonical form, the literal of any other
// leaf). The manifest and the signature go into the report's top-level
// "signature" object, the last member; everything else is covered.
// Verification checks the signature over the manifest with the trusted key,
// then recomputes the manifest and names the first entry that differs: a
// changed value, a field added or a field removed. The JSON is read and
// written with Poco::JSON only (member order kept); a signed report is the
// report as Poco writes it, with the signature added. Keys are lkctl's key
// files (hal_reference/cli key_files.hpp: the 32-byte seed as hex, mode
// 0600; the public key as hex in a .pub file).
#ifndef LATCHKEY_CERTIFY_REPORT_SIGNING_HPP
#define LATCHKEY_CERTIFY_REPORT_SIGNING_HPP

#include <latchkey/crypto/crypto.hpp>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::certify {

// A JSON text that does not parse (Poco's parser error, in words), or that
// the manifest cannot take: a member name twice in one object, an integer
// outside the 64-bit range, a top level that is not an object.
class JsonError : public std::runtime_error {
 public:
  explicit JsonError(const std::string& what);
};

// One leaf of a JSON document, in document order.
struct JsonLeaf {
  std::string path;       // members by name ("a.b"), array items by index ("a[3]"); names that are not
                          // identifiers are quoted (a["x.y"])
  std::string canonical;  // type tag and value: "s:" decoded string, "n:" number (an integer in decimal, any other
                          // number in the shortest text that reads back as the same double), "b:true", "b:false",
                          // "null", "[]", "{}"
};

// Leaves of a JSON text whose top level is an object, leaving out the
// top-level member named `skip` (and everything under it). The text is read
// by Poco::JSON's parser with member order kept. Throws JsonError.
std::vector<JsonLeaf> json_leaves(std::string_view text, std::string_view skip = {});

struct ManifestEntry {
  std::string path;
  std::string sha256;  // hex
};

// The manifest of a JSON report: every leaf but the "signature" member's.
std::vector<ManifestEntry> report_manifest(std::string_view json);

inline constexpr std::string_view kReportSignatureDomain = "latchkey.certification-report.v1";
inline constexpr std::string_view kReportSignatureAlgorithm = "ed25519-manifest-v2";

// The report with its "signature" member added (the last member), written by
// Poco. Throws JsonError (not JSON, or not an object) or std::invalid_argument
// (already signed).
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
