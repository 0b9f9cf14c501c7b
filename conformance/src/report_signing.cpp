#include "report_signing.hpp"

#include <latchkey/client/key_files.hpp>

#include <sodium.h>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <typeinfo>

namespace latchkey::certify {
namespace {

// Poco's ParseHandler, keeping member order, with what it would let through
// refused: a member name twice in one object (Poco keeps the last), and the
// integers Poco 1.11 wraps around instead of refusing (2^64 .. 2^64+3 come as
// 0 .. 3, -2^63-1 as -2^63), which would let an edited number hash as the
// signed one.
class StrictHandler : public Poco::JSON::ParseHandler {
 public:
  StrictHandler() : ParseHandler(true) {}

  void reset() override {
    ParseHandler::reset();
    names_.clear();
  }
  void startObject() override {
    ParseHandler::startObject();
    names_.emplace_back(std::set<std::string>{});
  }
  void endObject() override {
    ParseHandler::endObject();
    names_.pop_back();
  }
  void startArray() override {
    ParseHandler::startArray();
    names_.emplace_back(std::nullopt);
  }
  void endArray() override {
    ParseHandler::endArray();
    names_.pop_back();
  }
  void key(const std::string& k) override {
    if (!names_.empty() && names_.back() && !names_.back()->insert(k).second)
      throw JsonError("member \"" + k + "\" appears twice in one object");
    ParseHandler::key(k);
  }
  void value(Poco::Int64 v) override {
    // Poco reads -2^63-1 as -2^63: the two cannot be told apart, so neither is taken.
    if (v == std::numeric_limits<Poco::Int64>::min()) throw JsonError("a number at the edge of the 64-bit range");
    ParseHandler::value(v);
  }
  void value(Poco::UInt64 v) override {
    // Poco hands over an unsigned value only for a number above 2^63-1; a smaller one wrapped around.
    if (v <= static_cast<Poco::UInt64>(std::numeric_limits<Poco::Int64>::max()))
      throw JsonError("a number beyond the 64-bit range");
    ParseHandler::value(v);
  }
  using ParseHandler::value;

 private:
  std::vector<std::optional<std::set<std::string>>> names_;  // per open container: an object's member names
};

// Poco's parse error in the words the verifier reports.
std::string parse_problem(const std::string& poco) {
  if (poco.find("end of text") != std::string::npos) return "the JSON ends early (truncated?): " + poco;
  if (poco.find("unterminated string") != std::string::npos)
    return "a string does not end (truncated, or bytes that are not UTF-8): " + poco;
  if (poco.find("Excess characters") != std::string::npos) return "text after the end of the JSON document";
  if (poco.find("depth") != std::string::npos) return "nested too deeply (more than 128 levels): " + poco;
  return poco;
}

// The text parsed into objects that keep member order; the top level must be an object.
Poco::JSON::Object::Ptr parse_object(std::string_view text) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) throw JsonError("the text is empty");
  Poco::JSON::Parser parser(new StrictHandler);
  Poco::Dynamic::Var root;
  try {
    root = parser.parse(std::string(text));
  } catch (const Poco::Exception& e) {
    throw JsonError(parse_problem(e.message()));
  }
  if (root.type() != typeid(Poco::JSON::Object::Ptr)) throw JsonError("the top level is not a JSON object");
  return root.extract<Poco::JSON::Object::Ptr>();
}

bool identifier(const std::string& name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string member_path(const std::string& parent, const std::string& name) {
  if (identifier(name)) return parent.empty() ? name : parent + "." + name;
  // A name that is not an identifier, quoted as a JSON string (by Poco).
  std::ostringstream quoted;
  Poco::JSON::Stringifier::formatString(name, quoted);
  return parent + "[" + quoted.str() + "]";
}

// A number's canonical text: integers in decimal, other numbers in the
// shortest form that reads back as the same double.
std::string number_text(double d) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

// The leaves under `v` in document order; at the top level (path empty) the member `skip` is left out.
void collect(const Poco::Dynamic::Var& v, const std::string& path, std::string_view skip, std::vector<JsonLeaf>& out) {
  const std::type_info& type = v.type();
  if (v.isEmpty()) {
    out.push_back({path, "null"});
  } else if (type == typeid(Poco::JSON::Object::Ptr)) {
    const auto object = v.extract<Poco::JSON::Object::Ptr>();
    if (object->size() == 0) out.push_back({path, "{}"});
    for (const std::string& name : object->getNames()) {
      if (path.empty() && !skip.empty() && name == skip) continue;
      collect(object->get(name), member_path(path, name), skip, out);
    }
  } else if (type == typeid(Poco::JSON::Array::Ptr)) {
    const auto array = v.extract<Poco::JSON::Array::Ptr>();
    if (array->size() == 0) out.push_back({path, "[]"});
    for (std::size_t i = 0; i < array->size(); ++i) collect(array->get(static_cast<unsigned>(i)), path + "[" + std::to_string(i) + "]", skip, out);
  } else if (type == typeid(std::string)) {
    out.push_back({path, "s:" + v.extract<std::string>()});
  } else if (type == typeid(bool)) {
    out.push_back({path, v.extract<bool>() ? "b:true" : "b:false"});
  } else if (type == typeid(double)) {
    out.push_back({path, "n:" + number_text(v.extract<double>())});
  } else if (v.isInteger()) {
    // Int64 or UInt64 (the parser's integers): decimal, as Poco converts them.
    out.push_back({path, "n:" + v.convert<std::string>()});
  } else {
    throw JsonError("a JSON value of an unexpected kind at " + (path.empty() ? std::string("the top level") : path));
  }
}

std::vector<JsonLeaf> leaves_of(const Poco::JSON::Object::Ptr& root, std::string_view skip) {
  std::vector<JsonLeaf> leaves;
  collect(Poco::Dynamic::Var(root), "", skip, leaves);
  return leaves;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return crypto::to_hex({digest, sizeof digest});
}

// What the signature covers: the algorithm, then one "path NUL sha256 LF" per entry.
std::string manifest_bytes(const std::vector<ManifestEntry>& manifest) {
  std::string bytes(kReportSignatureAlgorithm);
  bytes += '\n';
  for (const auto& e : manifest) {
    bytes += e.path;
    bytes += '\0';
    bytes += e.sha256;
    bytes += '\n';
  }
  return bytes;
}

// The fields of the "signature" member, read from its leaves.
struct SignatureFields {
  std::string algorithm, public_key, value;
  std::vector<ManifestEntry> manifest;
  std::string problem;  // empty when well formed
};

SignatureFields signature_fields(const std::vector<JsonLeaf>& all) {
  SignatureFields f;
  std::map<std::size_t, ManifestEntry> entries;
  bool any = false;
  for (const auto& l : all) {
    if (l.path.rfind("signature", 0) != 0) continue;
    const std::string rest = l.path.substr(9);
    if (!rest.empty() && rest[0] != '.' && rest[0] != '[') continue;
    any = true;
    const std::string text = l.canonical.rfind("s:", 0) == 0 ? l.canonical.substr(2) : "";
    if (rest == ".algorithm") f.algorithm = text;
    else if (rest == ".publicKey") f.public_key = text;
    else if (rest == ".value") f.value = text;
    else if (rest.rfind(".manifest[", 0) == 0) {
      const std::size_t close = rest.find(']');
      const std::string index = rest.substr(10, close - 10);
      const std::string field = rest.substr(close + 1);
      if (index.empty() || !std::all_of(index.begin(), index.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
          index.size() > 9) {
        f.problem = "signature.manifest has an unexpected shape";
        continue;
      }
      auto& e = entries[std::stoul(index)];
      if (field == ".path") e.path = text;
      else if (field == ".sha256") e.sha256 = text;
      else f.problem = "signature.manifest has an unexpected field " + l.path;
    } else if (rest != ".manifest") {
      f.problem = "the signature has an unexpected field " + l.path;
    }
  }
  if (!any) {
    f.problem = "the report is not signed (no \"signature\" member)";
    return f;
  }
  std::size_t next = 0;
  for (auto& [index, e] : entries) {
    if (index != next++) f.problem = "signature.manifest has gaps";
    f.manifest.push_back(std::move(e));
  }
  return f;
}

}  // namespace

JsonError::JsonError(const std::string& what) : std::runtime_error(what) {}

std::vector<JsonLeaf> json_leaves(std::string_view text, std::string_view skip) {
  return leaves_of(parse_object(text), skip);
}

std::vector<ManifestEntry> report_manifest(std::string_view json) {
  std::vector<ManifestEntry> m;
  for (const auto& l : json_leaves(json, "signature")) m.push_back({l.path, sha256_hex(l.canonical)});
  return m;
}

std::string sign_report(std::string_view json, const crypto::KeyPair& key) {
  Poco::JSON::Object::Ptr report = parse_object(json);
  if (report->has("signature")) throw std::invalid_argument("the report is already signed");
  std::vector<ManifestEntry> manifest;
  for (const auto& l : leaves_of(report, {})) manifest.push_back({l.path, sha256_hex(l.canonical)});
  const std::string bytes = manifest_bytes(manifest);
  const crypto::Signature sig = crypto::sign(kReportSignatureDomain, crypto::view(bytes), key.secret_key);

  Poco::JSON::Array::Ptr entries = new Poco::JSON::Array;
  for (const auto& e : manifest) {
    Poco::JSON::Object::Ptr entry = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    entry->set("path", e.path);
    entry->set("sha256", e.sha256);
    entries->add(entry);
  }
  Poco::JSON::Object::Ptr signature = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  signature->set("algorithm", std::string(kReportSignatureAlgorithm));
  signature->set("publicKey", crypto::to_hex(key.public_key));
  signature->set("manifest", entries);
  signature->set("value", crypto::to_hex(sig));
  // The last member of the report; the report is written again by Poco (values unchanged: numbers
  // in their shortest form, which reads back as the same value).
  report->set("signature", signature);
  std::ostringstream out;
  report->stringify(out, 2);
  out << '\n';
  return out.str();
}

Verification verify_report(std::string_view json, const crypto::PublicKey& trusted) {
  Verification v;
  std::vector<JsonLeaf> all;
  try {
    all = json_leaves(json);
  } catch (const JsonError& e) {
    v.malformed = true;
    v.message = std::string("not a JSON report: ") + e.what();
    return v;
  }
  const SignatureFields f = signature_fields(all);
  if (!f.problem.empty()) {
    v.malformed = true;
    v.message = f.problem;
    return v;
  }
  if (f.algorithm != kReportSignatureAlgorithm) {
    v.message = "signature.algorithm was changed (or is unknown): '" + f.algorithm + "', expected '" +
                std::string(kReportSignatureAlgorithm) + "'";
    return v;
  }
  const auto value = crypto::from_hex(f.value);
  const std::string bytes = manifest_bytes(f.manifest);
  if (!value || value->size() != crypto_sign_BYTES ||
      !crypto::verify(kReportSignatureDomain, crypto::view(bytes), *value, trusted)) {
    if (f.public_key != crypto::to_hex(trusted))
      v.message = "the report was not signed by the trusted key (" + crypto::to_hex(trusted).substr(0, 16) +
                  "...): it names the key " + f.public_key.substr(0, 16) + "...";
    else
      v.message = "the signature does not verify with the trusted key: signature.manifest or signature.value was changed";
    return v;
  }
  if (f.public_key != crypto::to_hex(trusted)) {
    v.message = "signature.publicKey was changed (the signature verifies with the trusted key)";
    return v;
  }
  // The signature holds: the manifest is the signer's. Now the report against it.
  std::vector<ManifestEntry> now;
  for (const auto& l : all) {
    if (l.path == "signature" || l.path.rfind("signature.", 0) == 0 || l.path.rfind("signature[", 0) == 0) continue;
    now.push_back({l.path, sha256_hex(l.canonical)});
  }
  std::set<std::string> signed_paths, current_paths;
  for (const auto& e : f.manifest) signed_paths.insert(e.path);
  for (const auto& e : now) current_paths.insert(e.path);
  const std::size_t n = std::min(now.size(), f.manifest.size());
  for (std::size_t i = 0; i < n; ++i) {
    const ManifestEntry& was = f.manifest[i];
    const ManifestEntry& is = now[i];
    if (was.path == is.path) {
      if (was.sha256 != is.sha256) {
        v.message = is.path + " was changed";
        return v;
      }
      continue;
    }
    if (!signed_paths.count(is.path)) v.message = is.path + " was added";
    else if (!current_paths.count(was.path)) v.message = was.path + " was removed";
    else v.message = "the fields were reordered at " + is.path;
    return v;
  }
  if (now.size() > n) {
    v.message = now[n].path + " was added";
    return v;
  }
  if (f.manifest.size() > n) {
    v.message = f.manifest[n].path + " was removed";
    return v;
  }
  v.ok = true;
  v.message = "the report verifies: signed by " + crypto::to_hex(trusted).substr(0, 16) + "..., " +
              std::to_string(now.size()) + " fields unchanged";
  return v;
}

crypto::KeyPair read_lab_key(const std::string& path) {
  try {
    return client::read_secret_key(path);
  } catch (const client::KeyFileError& e) {
    throw std::runtime_error(e.what());
  }
}

crypto::PublicKey read_trusted_key(const std::string& path) {
  try {
    return client::read_public_key(path);
  } catch (const client::KeyFileError& e) {
    throw std::runtime_error(e.what());
  }
}

crypto::PublicKey make_lab_key(const std::string& name) {
  const std::filesystem::path secret = name + ".key", pub = name + ".pub";
  std::error_code ec;
  for (const auto& p : {secret, pub})
    if (std::filesystem::exists(p, ec)) throw std::runtime_error(p.string() + " already exists; not replacing a key");
  const crypto::KeyPair key = crypto::KeyPair::generate();
  try {
    client::write_secret_key(secret, key);
    client::write_public_key(pub, key.public_key);
  } catch (const client::KeyFileError& e) {
    throw std::runtime_error(e.what());
  }
  return key.public_key;
}

}  // namespace latchkey::certify
