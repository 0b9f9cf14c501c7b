// The C records of ABI v1 as plugin_host.proto's typed messages, both ways.
#include "records.hpp"

#include <algorithm>
#include <cstring>

namespace latchkey::isolation {
namespace {

// ---- Host side ----

template <std::size_t N>
std::string text(const char (&in)[N]) {
  return std::string(in, strnlen(in, N - 1));
}

template <std::size_t N>
std::string bytes(const uint8_t (&in)[N]) {
  return std::string(reinterpret_cast<const char*>(in), N);
}

// ---- Hub side ----

bool refuse(std::string* why, std::string reason) {
  if (why != nullptr) *why = std::move(reason);
  return false;
}

// Copies a text into its C array, terminated and zero-filled after it.
template <std::size_t N>
bool take_text(const std::string& in, char (&out)[N], const char* field, std::string* why) {
  if (in.size() > N - 1)
    return refuse(why, std::string(field) + " has " + std::to_string(in.size()) + " bytes; it holds at most " +
                           std::to_string(N - 1));
  if (in.find('\0') != std::string::npos) return refuse(why, std::string(field) + " holds a NUL byte");
  std::memset(out, 0, N);
  std::memcpy(out, in.data(), in.size());
  return true;
}

template <std::size_t N>
bool take_bytes(const std::string& in, uint8_t (&out)[N], const char* field, std::string* why) {
  if (in.size() != N)
    return refuse(why, std::string(field) + " has " + std::to_string(in.size()) + " bytes, not " + std::to_string(N));
  std::memcpy(out, in.data(), N);
  return true;
}

const char* kind_name(plugin_host::v1::Record::KindCase kind) {
  switch (kind) {
    case plugin_host::v1::Record::kLock: return "a lock description";
    case plugin_host::v1::Record::kCamera: return "a camera description";
    case plugin_host::v1::Record::kSnapshot: return "snapshot info";
    case plugin_host::v1::Record::kGrant: return "a grant";
    case plugin_host::v1::Record::kRefusal: return "a refusal";
    case plugin_host::v1::Record::KIND_NOT_SET: break;
  }
  return "no record";
}

// The record is of the kind wanted; "no record" when the host sent none.
bool expect(const plugin_host::v1::Record& in, plugin_host::v1::Record::KindCase wanted, std::string* why) {
  if (in.kind_case() == wanted) return true;
  if (in.kind_case() == plugin_host::v1::Record::KIND_NOT_SET) return refuse(why, "no record");
  return refuse(why, std::string(kind_name(in.kind_case())) + " where " + kind_name(wanted) + " was due");
}

// Fills a fresh record and hands it over whole, so a refusal leaves *out as it was.
template <typename T, typename Fill>
bool take(T* out, Fill fill) {
  T record{};
  record.struct_size = out->struct_size;
  if (!fill(record)) return false;
  *out = record;
  return true;
}

}  // namespace

void put_record(const lk_lock_description& in, plugin_host::v1::Record* out) {
  plugin_host::v1::LockDescription* d = out->mutable_lock();
  d->set_flags(in.flags);
  d->set_max_actuation_ms(in.max_actuation_ms);
  d->set_max_relock_deadline_ms(in.max_relock_deadline_ms);
}

void put_record(const lk_camera_description& in, plugin_host::v1::Record* out) {
  plugin_host::v1::CameraDescription* d = out->mutable_camera();
  d->set_flags(in.flags);
  d->set_camera_id(text(in.camera_id));
  d->set_public_key(bytes(in.public_key));
  d->set_attestation_period_ms(in.attestation_period_ms);
  d->set_max_snapshot_bytes(in.max_snapshot_bytes);
}

void put_record(const lk_snapshot_info& in, plugin_host::v1::Record* out) {
  plugin_host::v1::SnapshotInfo* s = out->mutable_snapshot();
  s->set_format(in.format);
  s->set_width(in.width);
  s->set_height(in.height);
  s->set_device_time_ns(in.device_time_ns);
}

void put_record(const lk_grant_info& in, plugin_host::v1::Record* out) {
  plugin_host::v1::GrantInfo* g = out->mutable_grant();
  g->set_uses(in.uses);
  g->set_grant_id(bytes(in.grant_id));
  g->set_issuer_key_id(text(in.issuer_key_id));
  g->set_hub_id(text(in.hub_id));
  g->set_door_id(text(in.door_id));
  g->set_courier_id(text(in.courier_id));
  g->set_courier_public_key(bytes(in.courier_public_key));
  g->set_not_before_unix_ms(in.not_before_unix_ms);
  g->set_not_after_unix_ms(in.not_after_unix_ms);
  g->set_required_camera_count(in.required_camera_count);
  const uint32_t ids = std::min<uint32_t>(in.required_camera_count, LK_GRANT_MAX_CAMERAS);
  for (uint32_t i = 0; i < ids; ++i) g->add_required_camera_ids(text(in.required_camera_ids[i]));
}

void put_record(const lk_authz_refusal& in, plugin_host::v1::Record* out) {
  plugin_host::v1::AuthzRefusal* r = out->mutable_refusal();
  r->set_code(in.code);
  r->set_message(text(in.message));
}

void put_violations(const host::ContractViolations& in, plugin_host::v1::ContractViolations* out) {
  out->set_duplicate_completions(in.duplicate_completions);
  out->set_unknown_completions(in.unknown_completions);
  out->set_completions_after_failed_start(in.completions_after_failed_start);
  out->set_events_after_close(in.events_after_close);
  out->set_missing_completions(in.missing_completions);
}

bool take_record(const plugin_host::v1::Record& in, lk_lock_description* out, std::string* why) {
  if (!expect(in, plugin_host::v1::Record::kLock, why)) return false;
  return take(out, [&](lk_lock_description& d) {
    const plugin_host::v1::LockDescription& m = in.lock();
    d.flags = m.flags();
    d.max_actuation_ms = m.max_actuation_ms();
    d.max_relock_deadline_ms = m.max_relock_deadline_ms();
    return true;
  });
}

bool take_record(const plugin_host::v1::Record& in, lk_camera_description* out, std::string* why) {
  if (!expect(in, plugin_host::v1::Record::kCamera, why)) return false;
  return take(out, [&](lk_camera_description& d) {
    const plugin_host::v1::CameraDescription& m = in.camera();
    d.flags = m.flags();
    d.attestation_period_ms = m.attestation_period_ms();
    d.max_snapshot_bytes = m.max_snapshot_bytes();
    return take_text(m.camera_id(), d.camera_id, "the camera id", why) &&
           take_bytes(m.public_key(), d.public_key, "the public key", why);
  });
}

bool take_record(const plugin_host::v1::Record& in, lk_snapshot_info* out, std::string* why) {
  if (!expect(in, plugin_host::v1::Record::kSnapshot, why)) return false;
  return take(out, [&](lk_snapshot_info& s) {
    const plugin_host::v1::SnapshotInfo& m = in.snapshot();
    s.format = m.format();
    s.width = m.width();
    s.height = m.height();
    s.device_time_ns = m.device_time_ns();
    return true;
  });
}

bool take_record(const plugin_host::v1::Record& in, lk_grant_info* out, std::string* why) {
  if (!expect(in, plugin_host::v1::Record::kGrant, why)) return false;
  return take(out, [&](lk_grant_info& g) {
    const plugin_host::v1::GrantInfo& m = in.grant();
    g.uses = m.uses();
    g.not_before_unix_ms = m.not_before_unix_ms();
    g.not_after_unix_ms = m.not_after_unix_ms();
    g.required_camera_count = m.required_camera_count();
    const uint32_t ids = std::min<uint32_t>(m.required_camera_count(), LK_GRANT_MAX_CAMERAS);
    if (static_cast<uint32_t>(m.required_camera_ids_size()) != ids)
      return refuse(why, "the grant names " + std::to_string(m.required_camera_count()) + " required camera(s) but " +
                             std::to_string(m.required_camera_ids_size()) + " camera id(s) came with it");
    if (!take_bytes(m.grant_id(), g.grant_id, "the grant id", why) ||
        !take_text(m.issuer_key_id(), g.issuer_key_id, "the issuer key id", why) ||
        !take_text(m.hub_id(), g.hub_id, "the hub id", why) || !take_text(m.door_id(), g.door_id, "the door id", why) ||
        !take_text(m.courier_id(), g.courier_id, "the courier id", why) ||
        !take_bytes(m.courier_public_key(), g.courier_public_key, "the courier key", why))
      return false;
    for (uint32_t i = 0; i < ids; ++i) {
      if (!take_text(m.required_camera_ids(static_cast<int>(i)), g.required_camera_ids[i], "a required camera id", why))
        return false;
    }
    return true;
  });
}

bool take_record(const plugin_host::v1::Record& in, lk_authz_refusal* out, std::string* why) {
  if (!expect(in, plugin_host::v1::Record::kRefusal, why)) return false;
  return take(out, [&](lk_authz_refusal& r) {
    r.code = in.refusal().code();
    return take_text(in.refusal().message(), r.message, "the refusal message", why);
  });
}

host::ContractViolations take_violations(const plugin_host::v1::ContractViolations& in) {
  host::ContractViolations v;
  v.duplicate_completions = in.duplicate_completions();
  v.unknown_completions = in.unknown_completions();
  v.completions_after_failed_start = in.completions_after_failed_start();
  v.events_after_close = in.events_after_close();
  v.missing_completions = in.missing_completions();
  return v;
}

}  // namespace latchkey::isolation
