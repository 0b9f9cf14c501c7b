#include "runner.hpp"

#include "agent_target.hpp"
#include "child_case.hpp"
#include "report.hpp"
#include "support.hpp"

#include <gtest/gtest.h>

#include <fnmatch.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <sstream>

namespace latchkey::certify {
namespace {

struct Instance {
  const CaseDef* def;
  std::string uri;
  int index;  // into report.cases
};

std::vector<std::string> instances_of(const Subject& s, Scope scope) {
  switch (scope) {
    case Scope::kPlugin:
    case Scope::kAuthz:
      return {""};
    case Scope::kLock:
      return s.lock_uris.empty() ? std::vector<std::string>{""} : s.lock_uris;
    case Scope::kCamera:
      return s.camera_uris.empty() ? std::vector<std::string>{""} : s.camera_uris;
    case Scope::kGate: {
      std::vector<std::string> all;
      if (s.offers_lock()) all.insert(all.end(), s.lock_uris.begin(), s.lock_uris.end());
      if (s.offers_camera()) all.insert(all.end(), s.camera_uris.begin(), s.camera_uris.end());
      if (s.offers_authz() || all.empty()) all.push_back("");
      return all;
    }
    case Scope::kAgent:
      if (s.agent) return {s.agent->options.address.uri};
      return {};
  }
  return {""};
}

class CaseTest : public ::testing::Test {
 public:
  CaseTest(Subject& subject, const CaseDef& def, std::string uri) : subject_(subject), def_(def), uri_(std::move(uri)) {}
  void TestBody() override {
    const std::size_t host_failures = host_failure_count(subject_);
    run();
    // The isolated host failing while the case ran (a crash, a hang, a protocol violation) fails the case.
    for (const std::string& reason : host_failures_since(subject_, host_failures))
      ADD_FAILURE() << "the plugin's lk-plugin-host failed (noticed during this case): " << reason;
  }

 private:
  void run() {
    // A hub case of a lock or camera plugin without a device: nothing to put in the hub.
    if (def_.scope == Scope::kGate && uri_.empty() && !subject_.offers_authz() &&
        (subject_.offers_lock() || subject_.offers_camera()))
      GTEST_SKIP() << "no " << (subject_.offers_lock() ? "lock" : "camera") << " device URI (give --device URI)";
    if (def_.applies) {
      if (auto reason = def_.applies(subject_, uri_)) GTEST_SKIP() << *reason;
    }
    if ((def_.scope == Scope::kLock || def_.scope == Scope::kCamera) && uri_.empty())
      GTEST_SKIP() << "no " << (def_.scope == Scope::kLock ? "lock" : "camera") << " device URI (give --device URI)";
    CaseContext ctx{subject_, uri_};
    // TC-ABI calls the plugin loaded into this process: a child process per
    // case, so that a crash or hang is that case's failure (child_case.hpp).
    if (family_of(def_.id) == "ABI") return run_case_in_child([&] { def_.run(ctx); }, kChildCaseTimeout);
    def_.run(ctx);
  }

  Subject& subject_;
  const CaseDef& def_;
  std::string uri_;
};

// The operator's answer as confirm_manual_step() records it: fields separated by \x1f.
void add_manual_answer(certification::v1::CaseResult& c, const std::string& value) {
  std::vector<std::string> f;
  std::stringstream in(value);
  for (std::string part; std::getline(in, part, '\x1f');) f.push_back(part);
  f.resize(5);
  auto* a = c.add_manual_answers();
  a->set_step(f[0]);
  a->set_answer(f[1]);
  a->set_note(f[2]);
  a->set_operator_(f[3]);
  a->set_time(f[4]);
}

class VerdictListener : public ::testing::EmptyTestEventListener {
 public:
  VerdictListener(std::vector<Instance>& instances, certification::v1::CertificationReport& report, bool quiet)
      : instances_(instances), report_(report), quiet_(quiet) {}

  void OnTestStart(const ::testing::TestInfo&) override { start_ = std::chrono::steady_clock::now(); }

  void OnTestEnd(const ::testing::TestInfo& info) override {
    const Instance& in = instances_[next_++];
    certification::v1::CaseResult* c = report_.mutable_cases(in.index);
    c->set_duration_ms(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count());
    const ::testing::TestResult& result = *info.result();
    std::ostringstream detail;
    std::string skip_message, measured;
    // What a case measured (RecordProperty("measured", ...)), for every verdict but skipped,
    // and the operator's answers to its manual steps (confirm_manual_step, --interactive).
    for (int i = 0; i < result.test_property_count(); ++i) {
      const std::string key = result.GetTestProperty(i).key();
      if (key == "measured") measured = result.GetTestProperty(i).value();
      else if (key.rfind(kManualAnswerProperty, 0) == 0) add_manual_answer(*c, result.GetTestProperty(i).value());
    }
    for (int i = 0; i < result.total_part_count(); ++i) {
      const ::testing::TestPartResult& part = result.GetTestPartResult(i);
      if (part.skipped()) {
        skip_message = part.message();
      } else if (part.failed()) {
        if (detail.tellp() > 0) detail << "\n";
        detail << part.message();
        *c->add_failures() = split_failure(part.message());
      }
    }
    if (result.Failed()) {
      c->set_verdict(certification::v1::CASE_VERDICT_FAIL);
      if (!measured.empty()) detail << "\nmeasured: " << measured;
      c->set_detail(detail.str());
    } else if (result.Skipped()) {
      const std::string kind = skip_kind_of(skip_message);
      c->set_skip_kind(kind);
      const bool manual = kind == "manual step";
      c->set_verdict(manual ? certification::v1::CASE_VERDICT_MANUAL : certification::v1::CASE_VERDICT_SKIPPED);
      c->set_detail(manual ? skip_message.substr(std::string(kManualPrefix).size()) : skip_message);
    } else {
      c->set_verdict(certification::v1::CASE_VERDICT_PASS);
      if (!measured.empty()) c->set_detail("measured: " + measured);
    }
    if (!quiet_) {
      // The case's whole line at its end, under the console mutex the plugin's
      // log lines take too: the two never split each other.
      std::ostringstream line;
      line << "[" << next_ << "/" << instances_.size() << "] " << in.def->id
           << (in.uri.empty() ? "" : " [" + in.uri + "]") << " ... " << verdict_text(c->verdict()) << " ("
           << static_cast<long>(c->duration_ms()) << " ms)";
      if (!c->detail().empty()) {
        std::string text = c->detail();
        for (std::size_t pos = 0; (pos = text.find('\n', pos)) != std::string::npos; pos += 5) text.replace(pos, 1, "\n    ");
        line << "\n    " << text;
      }
      line << "\n";
      const std::lock_guard<std::mutex> lock(console_mutex());
      std::cout << line.str() << std::flush;
    }
  }

 private:
  std::vector<Instance>& instances_;
  certification::v1::CertificationReport& report_;
  bool quiet_;
  std::size_t next_ = 0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

bool case_selected(const std::string& id, const std::string& filter) {
  if (filter.empty()) return true;
  std::stringstream patterns(filter);
  for (std::string p; std::getline(patterns, p, ',');)
    if (!p.empty() && (fnmatch(p.c_str(), id.c_str(), 0) == 0 || id.rfind(p, 0) == 0)) return true;
  return false;
}

void run_cases(Subject& subject, const std::string& filter, bool quiet, certification::v1::CertificationReport& report) {
  static std::vector<Instance> instances;
  instances.clear();
  for (const CaseDef& def : all_cases()) {
    if (!case_selected(def.id, filter)) continue;
    // An --agent run certifies the camera: only the TC-CAM cases concern it
    // (the others would test the relay plugin, locks, providers or the hub).
    if (subject.agent && family_of(def.id) != "CAM") continue;
    for (const std::string& uri : instances_of(subject, def.scope)) {
      certification::v1::CaseResult* c = report.add_cases();
      c->set_id(def.id);
      c->set_family(family_of(def.id));
      c->set_title(def.title);
      c->set_cites(def.cites);
      c->set_device(uri);
      instances.push_back({&def, uri, report.cases_size() - 1});
    }
  }
  int n = 0;
  for (const Instance& in : instances) {
    const std::string name = "i" + std::to_string(n++);
    ::testing::RegisterTest(in.def->id.c_str(), name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                            [&subject, &in]() -> ::testing::Test* { return new CaseTest(subject, *in.def, in.uri); });
  }
  ::testing::TestEventListeners& listeners = ::testing::UnitTest::GetInstance()->listeners();
  delete listeners.Release(listeners.default_result_printer());
  listeners.Append(new VerdictListener(instances, report, quiet));
  const int gtest_status = RUN_ALL_TESTS();  // verdicts come from the listener
  (void)gtest_status;
  settle_verdict(subject, report);
}

std::string skip_kind_of(const std::string& skip_message) {
  if (skip_message.rfind(kNotApplicablePrefix, 0) == 0) return "not applicable";
  if (skip_message.rfind(kNeedsTestControlPrefix, 0) == 0) return "needs test control";
  if (skip_message.rfind(kManualPrefix, 0) == 0) return "manual step";
  return "could not run";
}

void settle_verdict(const Subject& subject, certification::v1::CertificationReport& report) {
  certification::v1::ReportSummary* s = report.mutable_summary();
  s->Clear();
  report.clear_missing();
  // A plugin kind offered with no device under test: none of its device cases ran.
  const std::pair<bool, const char*> kinds[] = {
      {subject.offers_lock() && subject.lock_uris.empty() && !subject.agent, "lock"},
      {subject.offers_camera() && subject.camera_uris.empty() && !subject.agent, "camera"}};
  for (const auto& [absent, kind] : kinds) {
    if (!absent) continue;
    auto* m = report.add_missing();
    m->set_kind("no device");
    m->set_reason(std::string("the plugin offers a ") + kind + " interface but no " + kind +
                  " device was given (--device URI): its " + kind + " cases did not run");
  }
  std::string needs_test_control;
  for (const auto& c : report.cases()) {
    s->set_total(s->total() + 1);
    switch (c.verdict()) {
      case certification::v1::CASE_VERDICT_PASS: s->set_passed(s->passed() + 1); break;
      case certification::v1::CASE_VERDICT_FAIL: s->set_failed(s->failed() + 1); break;
      case certification::v1::CASE_VERDICT_MANUAL: s->set_manual(s->manual() + 1); break;
      default: s->set_skipped(s->skipped() + 1); break;
    }
    const bool skipped = c.verdict() == certification::v1::CASE_VERDICT_SKIPPED;
    if (skipped && c.skip_kind() == "not applicable") {
      s->set_not_applicable(s->not_applicable() + 1);
      continue;
    }
    if (!skipped && c.verdict() != certification::v1::CASE_VERDICT_MANUAL &&
        c.verdict() != certification::v1::CASE_VERDICT_UNSPECIFIED)
      continue;
    auto* m = report.add_missing();
    m->set_case_id(c.id());
    m->set_device(c.device());
    if (c.verdict() == certification::v1::CASE_VERDICT_MANUAL) {
      m->set_kind("manual step");
      m->set_reason("not carried out (run with --interactive): " + c.detail());
    } else if (c.verdict() == certification::v1::CASE_VERDICT_UNSPECIFIED) {
      m->set_kind("could not run");
      m->set_reason("the case did not run");
    } else {
      m->set_kind(c.skip_kind().empty() ? "could not run" : c.skip_kind());
      m->set_reason(c.detail());
      if (c.skip_kind() == "needs test control" && needs_test_control.find(c.id()) == std::string::npos)
        needs_test_control += (needs_test_control.empty() ? "" : ", ") + c.id();
    }
  }
  if (!needs_test_control.empty()) {
    // Said once, first: the build the vendor must submit for these cases to run.
    certification::v1::MissingItem build;
    build.set_kind("test build");
    build.set_reason("the vendor must submit its test build (the plugin offering the test-control interface, "
                     "LK_INTERFACE_TEST_CONTROL) for these cases to run: " + needs_test_control);
    auto* all = report.mutable_missing();
    *all->Add() = build;
    std::rotate(all->begin(), all->end() - 1, all->end());
  }
  s->set_missing(static_cast<uint32_t>(report.missing_size()));
  if (s->failed() > 0) report.set_verdict(certification::v1::RUN_VERDICT_FAILED);
  else if (report.missing_size() > 0 || s->total() == 0) report.set_verdict(certification::v1::RUN_VERDICT_INCOMPLETE);
  else report.set_verdict(certification::v1::RUN_VERDICT_PASSED);
  if (s->total() == 0 && report.missing_size() == 0) {
    auto* m = report.add_missing();
    m->set_kind("could not run");
    m->set_reason("no case was selected (--filter)");
    s->set_missing(1);
  }
}

}  // namespace latchkey::certify
