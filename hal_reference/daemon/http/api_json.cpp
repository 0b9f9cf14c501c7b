// The one JSON renderer of the API (Poco::JSON): every typed answer and
// event of HubApi to its JSON form, and the status for each error. One
// place for the wire format, hence the length.
#include "latchkey/http/api_json.hpp"

#include <cstdio>
#include <ctime>
#include <sstream>
#include <type_traits>

#include "poco_includes.hpp"

namespace latchkey::hub::http {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;
using Poco::Dynamic::Var;

// Fields in the order they are set, as docs/api.md lists them. Strings are
// written as UTF-8 (no JSON_ESCAPE_UNICODE): only quotes, backslashes and
// control characters are escaped.
Object::Ptr object() { return new Object(Poco::JSON_PRESERVE_KEY_ORDER); }

std::string stringify(const Object::Ptr& o) {
  std::ostringstream out;
  o->stringify(out);
  return out.str();
}

Var text(const std::string& s) { return valid_utf8(s); }
// A rule by its docs/rules.md ID ("" for none).
Var rule_text(Rule rule) { return std::string(name(rule)); }
Var number(int64_t n) { return Poco::Int64(n); }
Var time_text(int64_t unix_ms) { return rfc3339(unix_ms); }
Var unsigned_number(uint64_t n) { return Poco::UInt64(n); }

std::string hex(const Bytes& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

Array::Ptr strings(const std::vector<std::string>& items) {
  Array::Ptr a = new Array;
  for (const auto& s : items) a->add(text(s));
  return a;
}

// ---- One function per type ----

Object::Ptr json(const ApiError& e) {
  auto o = object();
  o->set("error", text(e.message));
  if (e.rule != Rule::kNone) o->set("rule", rule_text(e.rule));
  return o;
}

Object::Ptr json(const Health& h) {
  auto o = object();
  o->set("status", "ok");
  o->set("storage", h.storage_failed ? "failed" : "ok");
  o->set("uptime_ms", number(h.uptime_ms));
  o->set("doors", unsigned_number(h.doors));
  o->set("cameras", unsigned_number(h.cameras));
  o->set("audit_records", unsigned_number(h.audit_records));
  if (!h.audit_verified) o->set("audit", "does not verify: no unlock until it is recovered");
  return o;
}

Object::Ptr json(const Challenge& c) {
  auto o = object();
  o->set("door", text(c.door));
  o->set("challenge", hex(c.challenge));
  o->set("expires_in_ms", number(c.expires_in_ms));
  return o;
}

Object::Ptr json(const UnlockOutcome& u) {
  auto o = object();
  o->set("decision", u.allowed ? "allow" : "deny");
  o->set("door", text(u.door));
  if (u.allowed) {
    o->set("session", hex(u.session));
  } else {
    o->set("rule", rule_text(u.rule));
    o->set("error", text(u.message));
  }
  o->set("request_id", unsigned_number(u.request_id));
  return o;
}

Object::Ptr json(const OpenSession& s) {
  auto o = object();
  o->set("session", hex(s.session));
  o->set("door", text(s.door));
  o->set("grant", hex(s.grant));
  o->set("courier", text(s.courier));
  o->set("unlocked", s.unlocked);
  o->set("door_opens", number(s.door_opens));
  o->set("cameras", strings(s.cameras));
  o->set("end", "open");
  return o;
}

Object::Ptr json(const SessionChange& s) {
  auto o = object();
  o->set("session", text(s.session));
  o->set("door", text(s.door));
  o->set("rule", rule_text(s.rule));
  o->set("detail", text(s.detail));
  o->set("end", to_string(s.end));
  return o;
}

Object::Ptr json(const CameraStatus& c) {
  auto o = object();
  o->set("id", text(c.id));
  o->set("live", c.live);
  o->set("last_accepted_age_ms", c.last_accepted_age_ms ? number(*c.last_accepted_age_ms) : Var());
  o->set("counter", unsigned_number(c.counter));
  o->set("recording_session", hex(c.recording_session));
  o->set("accepted", unsigned_number(c.accepted));
  o->set("rejected", unsigned_number(c.rejected));
  if (c.scene) {
    auto scene = object();
    scene->set("mean_luminance", unsigned_number(c.scene->mean_luminance));
    scene->set("sharpness", unsigned_number(c.scene->sharpness));
    scene->set("reference_similarity", unsigned_number(c.scene->reference_similarity));
    o->set("scene", scene);
  } else {
    o->set("scene", Var());
  }
  return o;
}

Object::Ptr json(const DoorStatus& d) {
  auto o = object();
  o->set("id", text(d.id));
  o->set("lock_state", to_string(d.lock_state));
  o->set("door_state", to_string(d.door_state));
  o->set("lock_faulted", d.lock_faulted);
  o->set("lockout_remaining_ms", number(d.lockout_remaining_ms));
  if (d.session) o->set("session", json(*d.session));
  else o->set("session", Var());
  Array::Ptr cameras = new Array;
  for (const auto& c : d.cameras) cameras->add(json(c));
  o->set("cameras", cameras);
  auto remote = object();
  remote->set("allowed", d.remote_unlock.allowed);
  remote->set("rule", rule_text(d.remote_unlock.rule));
  remote->set("reason", text(d.remote_unlock.reason));
  o->set("remote_unlock", remote);
  return o;
}

Object::Ptr json(const Alarm& a) {
  auto o = object();
  o->set("id", unsigned_number(a.id));
  o->set("time_ms", number(a.time_ms));
  o->set("time", time_text(a.time_ms));
  o->set("rule", rule_text(a.rule));
  o->set("door", text(a.door));
  o->set("camera", text(a.camera));
  o->set("message", text(a.message));
  o->set("mono_us", number(a.mono_us));
  return o;
}

Object::Ptr json(const AuditRecord& r) {
  auto o = object();
  o->set("seq", unsigned_number(r.seq));
  o->set("wall_ms", number(r.wall_ms));
  o->set("wall_time", time_text(r.wall_ms));
  o->set("type", text(r.type));
  o->set("rule", rule_text(r.rule));
  o->set("door", text(r.door));
  o->set("subject", text(r.subject));
  o->set("detail", text(r.detail));
  o->set("consumes_grant", text(r.consumes_grant));
  o->set("kind", text(std::string(name(r.kind))));
  o->set("value", number(r.value));
  o->set("hash", hex(r.hash));
  return o;
}

Object::Ptr json(const AuditVerification& v) {
  auto o = object();
  o->set("ok", v.ok);
  o->set("records", unsigned_number(v.records));
  o->set("head", hex(v.head));
  if (!v.ok) {
    o->set("problem_seq", unsigned_number(v.problem_seq));
    o->set("error", text(v.error));
  }
  if (v.witness) {
    auto w = object();
    w->set("state", text(v.witness->state));
    w->set("detail", text(v.witness->detail));
    if (!v.witness->via.empty()) {
      w->set("via", text(v.witness->via));
      w->set("upstream_up", v.witness->upstream_up);
    }
    o->set("witness", w);
  }
  return o;
}

Object::Ptr json(const PluginStatus& p) {
  auto o = object();
  o->set("name", text(p.name));
  o->set("driver", text(p.driver));
  o->set("version", text(p.version));
  o->set("mode", to_string(p.mode));
  o->set("state", to_string(p.state));
  o->set("pid", number(p.pid));
  o->set("failures", unsigned_number(p.failures));
  o->set("recent_failures", unsigned_number(p.recent_failures));
  o->set("restarts", unsigned_number(p.restarts));
  o->set("last_fault", text(p.last_fault));
  o->set("restart_in_ms", number(p.restart_in_ms));
  return o;
}

Object::Ptr json(const TestControlDone&) {
  auto o = object();
  o->set("ok", true);
  return o;
}

Object::Ptr json(const Sessions& s) {
  Array::Ptr items = new Array;
  for (const auto& open : s.open) items->add(json(open));
  for (const auto& ended : s.ended) items->add(json(ended));
  auto o = object();
  o->set("sessions", items);
  return o;
}

template <class T>
Object::Ptr list(const char* key, const std::vector<T>& items) {
  Array::Ptr a = new Array;
  for (const auto& item : items) a->add(json(item));
  auto o = object();
  o->set(key, a);
  return o;
}

Object::Ptr json(const std::vector<DoorStatus>& v) { return list("doors", v); }
Object::Ptr json(const std::vector<Alarm>& v) { return list("alarms", v); }
Object::Ptr json(const std::vector<AuditRecord>& v) { return list("records", v); }
Object::Ptr json(const std::vector<PluginStatus>& v) { return list("plugins", v); }

// ---- Events ----

Object::Ptr json(const DecisionEvent& d) { return d.result.ok() ? json(d.result.value()) : json(d.result.error()); }

Object::Ptr json(const AuditAppended& a) {
  auto o = object();
  o->set("seq", unsigned_number(a.seq));
  o->set("type", text(a.type));
  o->set("rule", rule_text(a.rule));
  o->set("door", text(a.door));
  o->set("subject", text(a.subject));
  o->set("detail", text(a.detail));
  return o;
}

Object::Ptr json(const DoorCommand& c) {
  auto o = object();
  o->set("door", text(c.door));
  o->set("command", c.unlock ? "unlock" : "lock");
  o->set("operation", unsigned_number(c.operation));
  o->set("rule", rule_text(c.rule));
  o->set("result", text(c.result));
  o->set("mono_us", number(c.mono_us));
  return o;
}

Object::Ptr json(const LockStateChanged& c) {
  auto o = object();
  o->set("door", text(c.door));
  o->set("lock_state", to_string(c.lock_state));
  return o;
}

Object::Ptr json(const DoorStateChanged& c) {
  auto o = object();
  o->set("door", text(c.door));
  o->set("door_state", to_string(c.door_state));
  return o;
}

Object::Ptr json(const LockAlarmReported& c) {
  auto o = object();
  o->set("door", text(c.door));
  o->set("lock_alarm", unsigned_number(c.lock_alarm));
  return o;
}

Object::Ptr json(const CameraLiveness& c) {
  auto o = object();
  o->set("camera", text(c.camera));
  o->set("live", c.live);
  o->set("mono_us", number(c.mono_us));
  if (c.last_accepted_mono_us) o->set("last_accepted_mono_us", number(*c.last_accepted_mono_us));
  return o;
}

Object::Ptr json(const CameraRefused& c) {
  auto o = object();
  o->set("camera", text(c.camera));
  o->set("refused", text(c.reason));
  return o;
}

Object::Ptr json(const CameraStatusReported& c) {
  auto o = object();
  o->set("camera", text(c.camera));
  o->set("status", unsigned_number(c.status));
  return o;
}

Object::Ptr json(const PluginChanged& p) {
  auto o = object();
  o->set("plugin", text(p.plugin));
  o->set("state", to_string(p.state));
  o->set("reason", text(p.reason));
  return o;
}

template <class T>
RenderedAnswer answer(const ApiResult<T>& result, int ok_status = 200) {
  if (!result.ok()) return {http_status(result.error().kind), stringify(json(result.error()))};
  return {ok_status, stringify(json(result.value()))};
}

}  // namespace

int http_status(ApiErrorKind kind) {
  switch (kind) {
    case ApiErrorKind::kBadRequest: return 400;
    case ApiErrorKind::kNotFound: return 404;
    case ApiErrorKind::kConflict: return 409;
    case ApiErrorKind::kUnavailable: break;
  }
  return 503;
}

RenderedAnswer render(const ApiResult<Health>& r) { return answer(r); }
RenderedAnswer render(const ApiResult<Challenge>& r) { return answer(r); }
RenderedAnswer render(const ApiResult<UnlockOutcome>& r) {
  // A deny is an answer, not an error: 403 with the decision's body.
  return answer(r, r.ok() && !r->allowed ? 403 : 200);
}
RenderedAnswer render(const ApiResult<std::vector<DoorStatus>>& r) { return answer(r); }
RenderedAnswer render(const ApiResult<Sessions>& r) { return answer(r); }
RenderedAnswer render(const ApiResult<std::vector<Alarm>>& r) { return answer(r); }
RenderedAnswer render(const ApiResult<std::vector<AuditRecord>>& r) { return answer(r); }
RenderedAnswer render(const ApiResult<AuditVerification>& r) { return answer(r); }
RenderedAnswer render(const ApiResult<std::vector<PluginStatus>>& r) { return answer(r); }
RenderedAnswer render(const ApiResult<TestControlDone>& r) { return answer(r); }

std::string error_body(std::string_view error) {
  constexpr std::size_t kMax = 200;
  if (error.size() > kMax) {
    std::size_t cut = kMax;
    while (cut > 0 && (static_cast<unsigned char>(error[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
    error = error.substr(0, cut);
  }
  return stringify(json(ApiError{ApiErrorKind::kBadRequest, std::string(error), {}}));
}

const char* event_name(const EventData& data) {
  return std::visit(
      [](const auto& e) -> const char* {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, Alarm>) return "alarm";
        else if constexpr (std::is_same_v<T, DecisionEvent>) return "decision";
        else if constexpr (std::is_same_v<T, SessionChange>) return "session";
        else if constexpr (std::is_same_v<T, DoorCommand> || std::is_same_v<T, LockStateChanged> ||
                           std::is_same_v<T, DoorStateChanged> || std::is_same_v<T, LockAlarmReported>)
          return "door";
        else if constexpr (std::is_same_v<T, CameraLiveness> || std::is_same_v<T, CameraRefused> ||
                           std::is_same_v<T, CameraStatusReported>)
          return "camera";
        else if constexpr (std::is_same_v<T, AuditAppended>) return "audit";
        else return "plugin";
      },
      data);
}

std::string event_json(const HubEvent& event) {
  Object::Ptr o = std::visit([](const auto& e) { return json(e); }, event.data);
  if (!o->has("time_ms")) {
    o->set("time_ms", number(event.wall_ms));
    o->set("time", time_text(event.wall_ms));
  }
  return stringify(o);
}

std::string rfc3339(int64_t unix_ms) {
  const int64_t seconds = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[40];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(unix_ms - seconds * 1000));
  return text;
}

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
                    : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && len >= 3) {
      // No overlong forms, no surrogates, nothing above U+10FFFF.
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0) && !(c == 0xF0 && c1 < 0x90) &&
           !(c == 0xF4 && c1 >= 0x90);
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace latchkey::hub::http
