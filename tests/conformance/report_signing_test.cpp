// Signed certification reports (conformance/src/report_signing.hpp): an
// unedited report verifies; an edit of any leaf fails naming that field; a
// field added or removed is named; another key fails; a truncated or non-JSON
// file is a clear error. Run on a report built here with every field set and,
// when LK_CERTIFY_SIGNED_REPORT and LK_CERTIFY_TRUSTED_KEY name them (the
// certify_signed_report test), on a report lk-certify signed.
#include "report.hpp"
#include "report_signing.hpp"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>
#include <typeinfo>

namespace certify = latchkey::certify;
namespace crypto = latchkey::crypto;
namespace v1 = latchkey::certification::v1;

namespace {

class ReportSigning : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_GE(sodium_init(), 0); }
};

crypto::KeyPair key_from(uint8_t fill) {
  std::array<uint8_t, 32> seed{};
  seed.fill(fill);
  return crypto::KeyPair::from_seed(seed);
}

// A report as lk-certify writes it, with every field set.
v1::CertificationReport full_report() {
  v1::CertificationReport r;
  r.set_suite("lk-certify");
  r.set_sdk_version("0.9.0");
  r.set_abi_version("1.0");
  r.set_date("2026-12-07T19:00:00Z");
  r.set_plugin_file("lk_acme_lock.so");
  r.set_plugin_sha256(std::string(64, 'a'));
  r.set_vendor("Acme \"Locks\" \\ Co");
  r.set_driver_id("com.acme.lock");
  r.set_driver_version("2.1");
  r.set_plugin_abi_version("1.0");
  r.add_devices("acme://lock/front?token=secret&x=1");
  r.add_devices("acme://lock/back");
  auto* caps = r.mutable_capabilities();
  caps->set_loaded(true);
  caps->set_lock(true);
  caps->set_test_control(true);
  caps->set_lock_flags(7);
  r.set_duration_s(12.5);
  r.set_plugin_mode("isolated");
  r.set_verdict(v1::RUN_VERDICT_FAILED);
  for (int i = 0; i < 3; ++i) {
    auto* c = r.add_cases();
    c->set_id("TC-LOCK-" + std::to_string(i + 1) + ".1");
    c->set_family("LOCK");
    c->set_title("A title with unicode \xE2\x80\x94 and a tab\t");
    c->set_cites("abi.md 7");
    c->set_device("acme://lock/front");
    c->set_verdict(i == 0 ? v1::CASE_VERDICT_FAIL : i == 1 ? v1::CASE_VERDICT_MANUAL : v1::CASE_VERDICT_PASS);
    c->set_detail("line one\nline two");
    c->set_duration_ms(101.25 * (i + 1));
    if (i == 0) {
      auto* f = c->add_failures();
      f->set_what("the unlock never completed");
      f->set_expected("one completion within 1500 ms");
      f->set_came("none");
    }
    if (i == 1) {
      c->set_skip_kind("manual step");
      auto* a = c->add_manual_answers();
      a->set_step("Open the door.");
      a->set_answer("yes");
      a->set_note("slow");
      a->set_operator_("Ada");
      a->set_time("2026-12-07T19:01:00Z");
    }
  }
  auto* m = r.add_missing();
  m->set_kind("manual step");
  m->set_case_id("TC-LOCK-2.1");
  m->set_device("acme://lock/front");
  m->set_reason("not carried out");
  auto* s = r.mutable_summary();
  s->set_total(3);
  s->set_passed(1);
  s->set_failed(1);
  s->set_manual(1);
  s->set_missing(1);
  auto* p = r.mutable_provenance();
  p->set_operator_("Ada");
  p->set_lab("Acme Test Lab");
  p->set_host_name("bench-1");
  p->set_os("Debian GNU/Linux 12 (bookworm)");
  p->set_kernel("Linux 6.1.0 #1 SMP x86_64");
  p->set_cpu_model("Some CPU @ 3.0GHz");
  p->set_cpu_count(8);
  p->set_tool_version("0.9.0");
  p->set_tool_revision("0123456789abcdef");
  p->add_command_line("lk-certify");
  p->add_command_line("--plugin");
  p->add_command_line("lk_acme_lock.so");
  p->set_started("2026-12-07T19:00:00.000Z");
  p->set_ended("2026-12-07T19:00:12.500Z");
  auto* pf = p->add_plugins();
  pf->set_role("plugin under test");
  pf->set_path("/opt/acme/lk_acme_lock.so");
  pf->set_sha256(std::string(64, 'a'));
  return r;
}

// A leaf's value edited: a string gains a character, a number or literal
// becomes another, an empty array or object gains a member.
Poco::Dynamic::Var edited_value(const Poco::Dynamic::Var& was, const std::string& c) {
  if (c.rfind("s:", 0) == 0) {
    EXPECT_EQ(was.convert<std::string>(), c.substr(2)) << "the leaf walk is out of step with json_leaves";
    return was.convert<std::string>() + "X";
  }
  if (c.rfind("n:", 0) == 0) return Poco::Int64{c == "n:7" ? 8 : 7};
  if (c == "b:true") return false;
  if (c == "b:false") return true;
  if (c == "null") return Poco::Int64{0};
  if (c == "[]") {
    Poco::JSON::Array::Ptr a = new Poco::JSON::Array;
    a->add(Poco::Int64{1});
    return a;
  }
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  o->set("added", Poco::Int64{1});
  return o;
}

bool non_empty_container(const Poco::Dynamic::Var& v) {
  if (v.type() == typeid(Poco::JSON::Object::Ptr)) return v.extract<Poco::JSON::Object::Ptr>()->size() > 0;
  if (v.type() == typeid(Poco::JSON::Array::Ptr)) return v.extract<Poco::JSON::Array::Ptr>()->size() > 0;
  return false;
}

// Walks the leaves in document order (as json_leaves does) and edits the n-th; true once done.
bool edit_nth(const Poco::Dynamic::Var& container, std::size_t& n, std::string_view skip, const std::string& canonical) {
  if (container.type() == typeid(Poco::JSON::Object::Ptr)) {
    auto o = container.extract<Poco::JSON::Object::Ptr>();
    for (const std::string& name : o->getNames()) {
      if (name == skip) continue;
      const Poco::Dynamic::Var child = o->get(name);
      if (non_empty_container(child)) {
        if (edit_nth(child, n, {}, canonical)) return true;
      } else if (n-- == 0) {
        o->set(name, edited_value(child, canonical));
        return true;
      }
    }
  } else {
    auto a = container.extract<Poco::JSON::Array::Ptr>();
    for (unsigned i = 0; i < a->size(); ++i) {
      const Poco::Dynamic::Var child = a->get(i);
      if (non_empty_container(child)) {
        if (edit_nth(child, n, {}, canonical)) return true;
      } else if (n-- == 0) {
        a->set(i, edited_value(child, canonical));
        return true;
      }
    }
  }
  return false;
}

// The text with its index-th leaf edited (leaves counted as json_leaves(text, skip) lists them),
// written again by Poco.
std::string edit_leaf(const std::string& text, std::size_t index, std::string_view skip, const certify::JsonLeaf& leaf) {
  Poco::JSON::Parser parser(new Poco::JSON::ParseHandler(true));
  const auto root = parser.parse(text).extract<Poco::JSON::Object::Ptr>();
  std::size_t n = index;
  EXPECT_TRUE(edit_nth(root, n, skip, leaf.canonical)) << "no leaf " << index << " (" << leaf.path << ")";
  std::ostringstream out;
  root->stringify(out, 2);
  return out.str();
}

// Every leaf of a signed report but the signature's, edited one at a time.
void every_leaf_edit_is_named(const std::string& signed_text, const crypto::PublicKey& trusted) {
  const auto leaves = certify::json_leaves(signed_text, "signature");
  ASSERT_GT(leaves.size(), 20u);
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    const auto& leaf = leaves[i];
    const std::string edited = edit_leaf(signed_text, i, "signature", leaf);
    const auto v = certify::verify_report(edited, trusted);
    EXPECT_FALSE(v.ok) << "an edit of " << leaf.path << " verified";
    if (leaf.canonical == "[]" || leaf.canonical == "{}") {
      EXPECT_EQ(v.message.rfind(leaf.path, 0), 0u) << leaf.path << ": " << v.message;
      EXPECT_NE(v.message.find("was added"), std::string::npos) << leaf.path << ": " << v.message;
    } else {
      EXPECT_EQ(v.message, leaf.path + " was changed");
    }
  }
}

TEST_F(ReportSigning, UneditedReportVerifies) {
  const auto key = key_from(1);
  const std::string text = certify::sign_report(certify::report_json(full_report()), key);
  const auto v = certify::verify_report(text, key.public_key);
  EXPECT_TRUE(v.ok) << v.message;
  // The signed report is still the schema's JSON (the signature is a field of the report).
  EXPECT_NE(text.find("\"signature\""), std::string::npos);
}

TEST_F(ReportSigning, EveryLeafEditIsNamed) {
  const auto key = key_from(2);
  const std::string text = certify::sign_report(certify::report_json(full_report()), key);
  every_leaf_edit_is_named(text, key.public_key);
}

TEST_F(ReportSigning, NamesTheFieldInTheUsualNotation) {
  const auto key = key_from(3);
  const std::string text = certify::sign_report(certify::report_json(full_report()), key);
  std::string edited = text;
  const auto at = edited.find("\"CASE_VERDICT_PASS\"");
  ASSERT_NE(at, std::string::npos);
  edited.replace(at, 19, "\"CASE_VERDICT_FAIL\"");
  EXPECT_EQ(certify::verify_report(edited, key.public_key).message, "cases[2].verdict was changed");
  edited = text;
  const auto op = edited.find("\"Ada\"");
  edited.replace(op, 5, "\"Bob\"");
  EXPECT_EQ(certify::verify_report(edited, key.public_key).message, "cases[1].manualAnswers[0].operator was changed");
}

TEST_F(ReportSigning, AddedAndRemovedFieldsAreNamed) {
  const auto key = key_from(4);
  const std::string text = certify::sign_report(certify::report_json(full_report()), key);
  // A member added to the provenance.
  std::string added = text;
  added.insert(added.find("\"lab\""), "\"witness\": \"Eve\", ");
  EXPECT_EQ(certify::verify_report(added, key.public_key).message, "provenance.witness was added");
  // A member removed (the lab line and its comma).
  std::string removed = text;
  const auto lab = removed.find("\"lab\"");
  removed.erase(lab, removed.find(',', lab) + 1 - lab);
  EXPECT_EQ(certify::verify_report(removed, key.public_key).message, "provenance.lab was removed");
  // A case removed from the end of the list.
  v1::CertificationReport fewer = full_report();
  const std::string signed_full = text;
  fewer.mutable_cases()->RemoveLast();
  std::string unsigned_fewer = certify::report_json(fewer);
  // Graft the full report's signature onto the shorter report.
  const auto sig = signed_full.find("\"signature\"");
  unsigned_fewer.erase(unsigned_fewer.find_last_of('}'));
  unsigned_fewer = unsigned_fewer.substr(0, unsigned_fewer.find_last_not_of(" \n") + 1) + ",\n  " + signed_full.substr(sig);
  const auto v = certify::verify_report(unsigned_fewer, key.public_key);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.message.rfind("cases[2]", 0), 0u) << v.message;
  EXPECT_NE(v.message.find("was removed"), std::string::npos) << v.message;
}

TEST_F(ReportSigning, AnotherKeyFails) {
  const auto lab = key_from(5), other = key_from(6);
  const std::string text = certify::sign_report(certify::report_json(full_report()), other);
  const auto v = certify::verify_report(text, lab.public_key);
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.message.find("not signed by the trusted key"), std::string::npos) << v.message;
  // Naming the trusted key in the report does not help: the signature is the other key's.
  std::string renamed = text;
  const std::string other_hex = crypto::to_hex(other.public_key), lab_hex = crypto::to_hex(lab.public_key);
  renamed.replace(renamed.find(other_hex), other_hex.size(), lab_hex);
  const auto w = certify::verify_report(renamed, lab.public_key);
  EXPECT_FALSE(w.ok);
  EXPECT_NE(w.message.find("does not verify with the trusted key"), std::string::npos) << w.message;
}

TEST_F(ReportSigning, SignatureEditsFail) {
  const auto key = key_from(7);
  const std::string text = certify::sign_report(certify::report_json(full_report()), key);
  const auto leaves = certify::json_leaves(text);
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    const auto& leaf = leaves[i];
    if (leaf.path.rfind("signature", 0) != 0) continue;
    EXPECT_FALSE(certify::verify_report(edit_leaf(text, i, {}, leaf), key.public_key).ok) << "an edit of " << leaf.path;
  }
}

TEST_F(ReportSigning, TruncatedOrNotJsonIsAClearError) {
  const auto key = key_from(8);
  const std::string text = certify::sign_report(certify::report_json(full_report()), key);
  const auto truncated = certify::verify_report(text.substr(0, text.size() / 2), key.public_key);
  EXPECT_FALSE(truncated.ok);
  EXPECT_TRUE(truncated.malformed);
  EXPECT_NE(truncated.message.find("truncated"), std::string::npos) << truncated.message;
  const auto garbage = certify::verify_report("<html>not a report</html>", key.public_key);
  EXPECT_FALSE(garbage.ok);
  EXPECT_TRUE(garbage.malformed);
  EXPECT_NE(garbage.message.find("not a JSON report"), std::string::npos) << garbage.message;
  const auto empty = certify::verify_report("", key.public_key);
  EXPECT_FALSE(empty.ok);
  EXPECT_TRUE(empty.malformed);
  const auto array = certify::verify_report("[1, 2]", key.public_key);
  EXPECT_TRUE(array.malformed);
  const auto unsigned_report = certify::verify_report(certify::report_json(full_report()), key.public_key);
  EXPECT_TRUE(unsigned_report.malformed);
  EXPECT_NE(unsigned_report.message.find("not signed"), std::string::npos) << unsigned_report.message;
  EXPECT_THROW(certify::sign_report(text, key), std::invalid_argument);  // already signed
}

// What Poco's parser alone would let through is refused, naming what is wrong:
// a member twice (Poco keeps the last), text after the document, and the
// integers Poco 1.11 wraps around (2^64 reads as 0, -2^63-1 as -2^63).
TEST_F(ReportSigning, DuplicatesTrailingTextAndWrappedNumbersAreRefused) {
  const auto key = key_from(9);
  const std::string text = certify::sign_report(certify::report_json(full_report()), key);
  const auto refused = [&](const std::string& edited, const std::string& why) {
    const auto v = certify::verify_report(edited, key.public_key);
    EXPECT_FALSE(v.ok) << why;
    EXPECT_TRUE(v.malformed) << why << ": " << v.message;
    EXPECT_NE(v.message.find(why), std::string::npos) << v.message;
  };
  // The lab named twice: a reader that keeps the first would see another lab than the signed one.
  std::string twice = text;
  twice.insert(twice.find("\"lab\""), "\"lab\": \"Mallory's Lab\", ");
  refused(twice, "member \"lab\" appears twice");
  refused(text + "{}", "text after the end of the JSON document");
  refused(text + "x", "text after the end of the JSON document");
  std::string wrapped = text;
  const auto cpus = wrapped.find("\"cpuCount\"");
  ASSERT_NE(cpus, std::string::npos);
  const auto digits = wrapped.find('8', cpus);
  wrapped.replace(digits, 1, "18446744073709551624");  // 2^64 + 8
  certify::verify_report(wrapped, key.public_key);      // refused by Poco itself; no crash
  wrapped = text;
  wrapped.replace(digits, 1, "18446744073709551616");  // 2^64, which Poco reads as 0
  refused(wrapped, "beyond the 64-bit range");
  EXPECT_THROW(certify::json_leaves("{\"n\": -9223372036854775809}"), certify::JsonError);
  EXPECT_THROW(certify::json_leaves("{\"a\": 1, \"a\": 1}"), certify::JsonError);
  EXPECT_THROW(certify::json_leaves("{\"a\": [1, 2"), certify::JsonError);
  EXPECT_THROW(certify::sign_report("[1]", key), certify::JsonError);
  // Nesting beyond Poco's depth limit is an error, not a stack overflow.
  EXPECT_THROW(certify::json_leaves("{\"a\": " + std::string(100000, '[') + std::string(100000, ']') + "}"),
               certify::JsonError);
  // Same member names in different objects are fine.
  EXPECT_EQ(certify::json_leaves("{\"a\": {\"x\": 1}, \"b\": {\"x\": 2}, \"c\": [{\"x\": 3}, {\"x\": 4}]}").size(), 4u);
}

// A report lk-certify signed in a real run (certify_signed_report sets these).
TEST_F(ReportSigning, RealSignedReport) {
  const char* report = std::getenv("LK_CERTIFY_SIGNED_REPORT");
  const char* trusted = std::getenv("LK_CERTIFY_TRUSTED_KEY");
  if (report == nullptr || trusted == nullptr)
    GTEST_SKIP() << "LK_CERTIFY_SIGNED_REPORT and LK_CERTIFY_TRUSTED_KEY are not set (certify_signed_report sets them)";
  std::ifstream in(report, std::ios::binary);
  ASSERT_TRUE(in) << "cannot read " << report;
  std::stringstream text;
  text << in.rdbuf();
  const auto key = certify::read_trusted_key(trusted);
  const auto v = certify::verify_report(text.str(), key);
  ASSERT_TRUE(v.ok) << v.message;
  every_leaf_edit_is_named(text.str(), key);
}

TEST(SplitFailure, FailCaseTextAndAssertions) {
  auto f = certify::split_failure("Failed\nthe unlock never completed\nexpected: one completion\ncame: none");
  EXPECT_EQ(f.what(), "the unlock never completed");
  EXPECT_EQ(f.expected(), "one completion");
  EXPECT_EQ(f.came(), "none");
  f = certify::split_failure("Expected equality of these values:\n  state\n    Which is: 2\n  LK_LOCK_STATE_LOCKED\n"
                             "    Which is: 1\nthe bolt is not locked");
  EXPECT_EQ(f.what(), "the bolt is not locked");
  EXPECT_EQ(f.expected(), "state equal to LK_LOCK_STATE_LOCKED (1)");
  EXPECT_EQ(f.came(), "2");
  f = certify::split_failure("Expected: (ms) <= (1500), actual: 2100 vs 1500\ntoo slow");
  EXPECT_EQ(f.what(), "too slow");
  EXPECT_EQ(f.expected(), "(ms) <= (1500)");
  EXPECT_EQ(f.came(), "2100 vs 1500");
  f = certify::split_failure("Value of: ok\n  Actual: false\nExpected: true\nno relock");
  EXPECT_EQ(f.what(), "no relock");
  EXPECT_EQ(f.expected(), "ok is true");
  EXPECT_EQ(f.came(), "false");
  f = certify::split_failure("Failed\nsomething else entirely");
  EXPECT_EQ(f.what(), "something else entirely");
}

TEST(ShortUri, DropsTheQueryAndElidesTheMiddle) {
  EXPECT_EQ(certify::short_uri("sim://lock/a"), "sim://lock/a");
  const std::string long_uri = "mqtt://127.0.0.1:41234/cert_lock?contact_sensor=cert_contact&password_file=/tmp/x";
  const std::string s = certify::short_uri(long_uri);
  EXPECT_LT(s.size(), long_uri.size());
  EXPECT_EQ(s.find("password_file"), std::string::npos);
  EXPECT_EQ(s.rfind("mqtt://127.0.0.1", 0), 0u);
}

}  // namespace
