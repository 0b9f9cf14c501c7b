#include "report_signing.hpp"

#include <latchkey/client/key_files.hpp>

#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

namespace latchkey::certify {
namespace {

// A small strict JSON reader (RFC 8259) that keeps member order and the byte
// range of every leaf: what the manifest needs and a general parser would not give.
class Reader {
 public:
  Reader(std::string_view text, std::string_view skip, std::vector<JsonLeaf>& out) : t_(text), skip_(skip), out_(out) {}

  void document() {
    space();
    if (peek() != '{') fail("the top level is not a JSON object");
    value("", true);
    space();
    if (p_ != t_.size()) fail("text after the end of the JSON document");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw JsonError(what, p_); }
  char peek() const { return p_ < t_.size() ? t_[p_] : '\0'; }
  void space() {
    while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\t' || t_[p_] == '\n' || t_[p_] == '\r')) ++p_;
  }
  void expect(char c) {
    if (peek() != c) {
      if (p_ >= t_.size()) fail(std::string("the JSON ends early (truncated?): expected '") + c + "'");
      fail(std::string("expected '") + c + "', found '" + t_[p_] + "'");
    }
    ++p_;
  }

  static bool identifier(const std::string& name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
  }
  static std::string member_path(const std::string& parent, const std::string& name) {
    if (identifier(name)) return parent.empty() ? name : parent + "." + name;
    std::string quoted = "\"";
    for (char c : name) quoted += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
    return parent + "[" + quoted + "\"]";
  }

  void leaf(const std::string& path, std::string canonical, std::size_t begin) {
    if (depth_skip_ == 0) out_.push_back({path, std::move(canonical), begin, p_});
  }

  void value(const std::string& path, bool top = false) {
    if (++depth_ > 512) fail("nested too deeply");
    space();
    const std::size_t begin = p_;
    const char c = peek();
    if (c == '{') {
      ++p_;
      space();
      if (peek() == '}') {
        ++p_;
        leaf(path, "{}", begin);
      } else {
        std::set<std::string> names;
        for (;;) {
          space();
          if (peek() != '"') fail(p_ >= t_.size() ? "the JSON ends early (truncated?)" : "expected a member name");
          const std::string name = string();
          if (!names.insert(name).second) fail("member \"" + name + "\" appears twice");
          space();
          expect(':');
          const bool skipped = top && !skip_.empty() && name == skip_;
          depth_skip_ += skipped;
          value(member_path(path, name));
          depth_skip_ -= skipped;
          space();
          if (peek() == ',') {
            ++p_;
            continue;
          }
          expect('}');
          break;
        }
      }
    } else if (c == '[') {
      ++p_;
      space();
      if (peek() == ']') {
        ++p_;
        leaf(path, "[]", begin);
      } else {
        for (std::size_t i = 0;; ++i) {
          value(path + "[" + std::to_string(i) + "]");
          space();
          if (peek() == ',') {
            ++p_;
            continue;
          }
          expect(']');
          break;
        }
      }
    } else if (c == '"') {
      std::string s = string();
      leaf(path, "s:" + s, begin);
    } else if (c == 't' || c == 'f' || c == 'n') {
      for (std::string_view word : {"true", "false", "null"}) {
        if (t_.substr(p_, word.size()) == word) {
          p_ += word.size();
          leaf(path, word == "null" ? "null" : "b:" + std::string(word), begin);
          --depth_;
          return;
        }
      }
      fail("not a JSON value");
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      number();
      leaf(path, "n:" + std::string(t_.substr(begin, p_ - begin)), begin);
    } else if (p_ >= t_.size()) {
      fail("the JSON ends early (truncated?)");
    } else {
      fail(std::string("not a JSON value: '") + c + "'");
    }
    --depth_;
  }

  void digits() {
    if (!(peek() >= '0' && peek() <= '9')) fail("expected a digit");
    while (peek() >= '0' && peek() <= '9') ++p_;
  }
  void number() {
    if (peek() == '-') ++p_;
    if (peek() == '0') ++p_;
    else digits();
    if (peek() == '.') {
      ++p_;
      digits();
    }
    if (peek() == 'e' || peek() == 'E') {
      ++p_;
      if (peek() == '+' || peek() == '-') ++p_;
      digits();
    }
  }

  unsigned hex4() {
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = peek();
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
      else fail("bad \\u escape");
      ++p_;
    }
    return v;
  }
  static void utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  std::string string() {
    expect('"');
    std::string s;
    for (;;) {
      if (p_ >= t_.size()) fail("the JSON ends early (truncated?) inside a string");
      const char c = t_[p_++];
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20) fail("a control character inside a string");
      if (c != '\\') {
        s += c;
        continue;
      }
      const char e = peek();
      ++p_;
      switch (e) {
        case '"': s += '"'; break;
        case '\\': s += '\\'; break;
        case '/': s += '/'; break;
        case 'b': s += '\b'; break;
        case 'f': s += '\f'; break;
        case 'n': s += '\n'; break;
        case 'r': s += '\r'; break;
        case 't': s += '\t'; break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF && t_.substr(p_, 2) == "\\u") {
            p_ += 2;
            const unsigned low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) fail("a lone surrogate in a \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          utf8(s, cp);
          break;
        }
        default: fail("a bad escape in a string");
      }
    }
    return s;
  }

  std::string_view t_;
  std::string_view skip_;
  std::vector<JsonLeaf>& out_;
  std::size_t p_ = 0;
  int depth_ = 0;
  int depth_skip_ = 0;
};

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

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char u[8];
          std::snprintf(u, sizeof u, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += u;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
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

JsonError::JsonError(const std::string& what, std::size_t offset)
    : std::runtime_error(what + " (at byte " + std::to_string(offset) + ")"), offset_(offset) {}

std::vector<JsonLeaf> json_leaves(std::string_view text, std::string_view skip) {
  std::vector<JsonLeaf> leaves;
  Reader(text, skip, leaves).document();
  return leaves;
}

std::vector<ManifestEntry> report_manifest(std::string_view json) {
  std::vector<ManifestEntry> m;
  for (const auto& l : json_leaves(json, "signature")) m.push_back({l.path, sha256_hex(l.canonical)});
  return m;
}

std::string sign_report(std::string_view json, const crypto::KeyPair& key) {
  for (const auto& l : json_leaves(json))
    if (l.path == "signature" || l.path.rfind("signature.", 0) == 0)
      throw std::invalid_argument("the report is already signed");
  const std::vector<ManifestEntry> manifest = report_manifest(json);
  const std::string bytes = manifest_bytes(manifest);
  const crypto::Signature sig = crypto::sign(kReportSignatureDomain, crypto::view(bytes), key.secret_key);
  std::string member = "  \"signature\": {\n    \"algorithm\": " + json_string(kReportSignatureAlgorithm) +
                       ",\n    \"publicKey\": " + json_string(crypto::to_hex(key.public_key)) + ",\n    \"manifest\": [";
  for (std::size_t i = 0; i < manifest.size(); ++i)
    member += std::string(i ? "," : "") + "\n      {\"path\": " + json_string(manifest[i].path) +
              ", \"sha256\": " + json_string(manifest[i].sha256) + "}";
  member += "\n    ],\n    \"value\": " + json_string(crypto::to_hex(sig)) + "\n  }\n";
  // The report is an object (json_leaves checked): the member goes before its closing brace.
  std::size_t close = json.find_last_of('}');
  std::size_t before = json.find_last_not_of(" \t\r\n", close - 1);
  const bool empty = json[before] == '{';
  std::string out(json.substr(0, before + 1));
  out += empty ? "\n" : ",\n";
  out += member;
  out += "}\n";
  return out;
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
