// The figures that follow a message across the fleet: a revocation list
// down to every hub, an alarm up from every hub; each against a bare MQTT
// exchange of the same shape through the same broker by "floor", a client
// that is no hub (its topics are the hub pattern's with the user "floor").
#include "figures.hpp"

#include "hub/stats.hpp"

#include <latchkey/client/api_client.hpp>
#include <latchkey/demo/delivery.hpp>
#include <latchkey/fleet/outbox.hpp>
#include <latchkey/fleet/revocation.hpp>

#include <cstring>
#include <map>
#include <stdexcept>
#include <thread>

namespace latchkey::fleetsim {

using namespace std::chrono_literals;

namespace {

constexpr const char* kFloor = "floor";

struct Percentiles {
  double p50_ms, p99_ms;
};

Percentiles percentiles_ms(const std::vector<double>& seconds) {
  return {percentile(seconds, 50) * 1000, percentile(seconds, 99) * 1000};
}

void report_pair(const std::string& figure, const Percentiles& measured, const Percentiles& floor,
                 const std::string& note) {
  bench::print_row(figure + " p50", bench::fmt("%.2f", measured.p50_ms) + " ms", bench::fmt("%.2f", floor.p50_ms) + " ms",
            bench::fmt("%.1f", measured.p50_ms / floor.p50_ms), "-", "-", note);
  bench::print_row(figure + " p99", bench::fmt("%.2f", measured.p99_ms) + " ms", bench::fmt("%.2f", floor.p99_ms) + " ms",
            bench::fmt("%.1f", measured.p99_ms / floor.p99_ms), "-", "-", note);
}

std::string stamp_payload(int index) {
  std::string payload(64, '\0');
  std::memcpy(payload.data(), &index, sizeof index);
  return payload;
}

int stamp_index(const std::string& payload) {
  int index = -1;
  if (payload.size() >= sizeof index) std::memcpy(&index, payload.data(), sizeof index);
  return index;
}

// `count` messages published at once by `publisher` on `out_topic`; for each,
// the seconds until `listener` has the message that carries its stamp.
std::vector<double> burst(mqtt::MqttLink& publisher, Listener& listener, const std::string& out_topic, int count,
                          bool retain) {
  const std::size_t before = listener.received().size();
  std::vector<double> sent(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const std::string payload = stamp_payload(i);
    sent[static_cast<std::size_t>(i)] = mono_s();
    std::string error;
    if (!publisher.publish(out_topic, reinterpret_cast<const uint8_t*>(payload.data()), payload.size(), 1, &error,
                           retain))
      throw std::runtime_error("floor publish on " + out_topic + ": " + error);
  }
  if (!listener.wait([&](const auto& r) { return r.size() >= before + static_cast<std::size_t>(count); }, 30s))
    throw std::runtime_error("the floor's messages did not all arrive within 30 s");
  std::vector<double> latency;
  const auto received = listener.received();
  for (std::size_t k = before; k < received.size(); ++k) {
    const int i = stamp_index(received[k].payload);
    if (i >= 0 && i < count) latency.push_back(received[k].mono_s - sent[static_cast<std::size_t>(i)]);
  }
  return latency;
}

// Where the floors' messages travel. Direct: "floor" on the fleet broker
// both ways. Bridge: through the first hub's own broker and bridge, as user
// hub there, on topics its bridge carries (down/floor in, up/floor out).
struct FloorPath {
  const testing::MosquittoBroker* hub_side;  // where the hub end connects
  std::string hub_user;
  std::string prefix;                        // latchkey/fleet/v1/<id>/
};

FloorPath floor_path(Fleet& fleet, const testing::MosquittoBroker& broker) {
  if (!fleet.bridged()) return {&broker, kFloor, "latchkey/fleet/v1/" + std::string(kFloor) + "/"};
  return {&fleet.hub_broker(0), "hub", "latchkey/fleet/v1/" + fleet.hubs().front()->hub_id() + "/"};
}

}  // namespace

void measure_revocation(Fleet& fleet, testing::MosquittoBroker& broker) {
  auto& hubs = fleet.hubs();
  const int n = static_cast<int>(hubs.size());
  Listener acks(broker, "lk-issuer", {fleet::revocations_applied_subscription()});
  if (!acks.wait_connected(5s)) throw std::runtime_error("lk-issuer's listener did not connect");
  auto issuer = connect_as(broker, "lk-issuer");

  // The floor: the same burst and the same round trip (fleet broker down
  // to the hub's side, an echo there, back up to a listener on the fleet
  // broker) with no hub in it.
  const FloorPath path = floor_path(fleet, broker);
  Listener floor_listener(broker, kFloor, {path.prefix + "up/floor"});
  if (!floor_listener.wait_connected(5s)) throw std::runtime_error("the floor's listener did not connect");
  mqtt::MqttLink* echo_raw = nullptr;
  auto echo = connect_as(*path.hub_side, path.hub_user, {{path.prefix + "down/floor", 1}},
                         [&echo_raw, up = path.prefix + "up/floor"](std::string_view, const uint8_t* data, std::size_t size) {
                           std::string error;
                           if (echo_raw) echo_raw->publish(up, data, size, 1, &error);
                         });
  echo_raw = echo.get();
  auto floor_publisher = connect_as(broker, kFloor);
  const std::vector<double> floor_s = burst(*floor_publisher, floor_listener, path.prefix + "down/floor", n, false);
  echo_raw = nullptr;

  // Each hub: a grant minted for it, then a list (sequence 1) revoking it,
  // all published at once, retained, as an issuer does.
  struct Target {
    demo::Courier courier = demo::Courier::make("courier-sim");
    client::MintedGrant grant;
    std::string list;
    double sent = 0;
    double applied = -1;
  };
  std::vector<Target> targets(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    Target& t = targets[static_cast<std::size_t>(i)];
    demo::SimHub& hub = *hubs[static_cast<std::size_t>(i)];
    t.grant = demo::mint_grant_for(hub, "front", t.courier);
    fleet::RevocationList list;
    list.hub_id = hub.hub_id();
    list.issuer_key_id = hub.issuer_key_id();
    list.sequence = 1;
    list.grant_ids = {crypto::to_hex(t.grant.grant_id)};
    list.issued_wall_ms = wall_ms();
    t.list = fleet::encode_signed_revocation_list(list, hub.issuer().secret_key);
  }
  const std::size_t before = acks.received().size();
  std::map<std::string, std::size_t> index_of;
  for (int i = 0; i < n; ++i) index_of[hubs[static_cast<std::size_t>(i)]->hub_id()] = static_cast<std::size_t>(i);
  for (int i = 0; i < n; ++i) {
    Target& t = targets[static_cast<std::size_t>(i)];
    t.sent = mono_s();
    std::string error;
    if (!issuer->publish(fleet::revocations_topic(hubs[static_cast<std::size_t>(i)]->hub_id(),
                                                  hubs[static_cast<std::size_t>(i)]->issuer_key_id()),
                         reinterpret_cast<const uint8_t*>(t.list.data()), t.list.size(), 1, &error, true))
      throw std::runtime_error("publishing a revocation list: " + error);
  }
  const auto all_applied = [&](const std::vector<Listener::Received>& received) {
    std::size_t applied = 0;
    for (std::size_t k = before; k < received.size(); ++k) {
      auto ack = fleet::decode_revocations_applied(reinterpret_cast<const uint8_t*>(received[k].payload.data()),
                                                   received[k].payload.size());
      if (auto* a = std::get_if<fleet::RevocationsApplied>(&ack); a && a->sequence == 1 && index_of.count(a->hub_id))
        ++applied;
    }
    return applied >= static_cast<std::size_t>(n);
  };
  if (!acks.wait(all_applied, 60s)) throw std::runtime_error("not every hub applied its revocation list within 60 s");
  std::vector<double> applied_s;
  const auto received = acks.received();
  for (std::size_t k = before; k < received.size(); ++k) {
    auto ack = fleet::decode_revocations_applied(reinterpret_cast<const uint8_t*>(received[k].payload.data()),
                                                 received[k].payload.size());
    auto* a = std::get_if<fleet::RevocationsApplied>(&ack);
    if (!a || !index_of.count(a->hub_id)) continue;
    Target& t = targets[index_of[a->hub_id]];
    if (t.applied < 0) {
      t.applied = received[k].mono_s;
      applied_s.push_back(t.applied - t.sent);
    }
  }

  // The acknowledgement follows the list being in force: every hub refuses
  // its revoked grant now (G1). Checked at each hub.
  for (int i = 0; i < n; ++i) {
    demo::SimHub& hub = *hubs[static_cast<std::size_t>(i)];
    auto api = hub.client();
    const Target& t = targets[static_cast<std::size_t>(i)];
    const client::UnlockAnswer answer = demo::present_grant(*api, "front", t.grant.signed_grant, t.courier);
    if (answer.allowed || answer.rule != "G1" || answer.error.find("revoked") == std::string::npos)
      throw std::runtime_error(hub.hub_id() + " did not refuse its revoked grant with G1: " + answer.decision + " " +
                               answer.rule + " " + answer.error);
  }
  report_pair("fleet: revocation published -> applied at " + std::to_string(n) + " hubs",
              percentiles_ms(applied_s), percentiles_ms(floor_s),
              "one signed list per hub published at once (retained, QoS 1) until each hub's RevocationsApplied "
              "reached the issuer; every hub then refused its revoked grant (G1). Floor: the same burst and round "
              "trip with an echo client in place of the hubs" +
                  std::string(fleet.bridged() ? " (through the first hub's broker and bridge)" : ""));
}

void measure_alarm(Fleet& fleet, testing::MosquittoBroker& broker) {
  auto& hubs = fleet.hubs();
  const int n = static_cast<int>(hubs.size());
  Listener alarms(broker, "lk-fleet", {"latchkey/fleet/v1/+/up/alarm"});
  if (!alarms.wait_connected(5s)) throw std::runtime_error("lk-fleet's listener did not connect");

  // The floor: the same number of bare publishes from the hub's side
  // (through the first hub's bridge in bridge mode) to a listener on the
  // fleet broker.
  const FloorPath path = floor_path(fleet, broker);
  Listener floor_listener(broker, kFloor, {path.prefix + "up/floor"});
  if (!floor_listener.wait_connected(5s)) throw std::runtime_error("the floor's listener did not connect");
  auto floor_publisher = connect_as(*path.hub_side, path.hub_user);
  const std::vector<double> floor_s = burst(*floor_publisher, floor_listener, path.prefix + "up/floor", n, false);

  // Each hub: the door opened while its lock reports Locked, an alarm (U8),
  // one hub after another through its API.
  const std::size_t before = alarms.received().size();
  std::map<std::string, double> asked;
  std::vector<std::unique_ptr<client::ApiClient>> clients;
  for (auto& hub : hubs) clients.push_back(hub->client());
  for (int i = 0; i < n; ++i) {
    asked[hubs[static_cast<std::size_t>(i)]->hub_id()] = mono_s();
    const auto answer = clients[static_cast<std::size_t>(i)]->door_action("front", "open");
    if (answer.status != 200) throw std::runtime_error("opening the door at " + hubs[static_cast<std::size_t>(i)]->hub_id() +
                                                       ": " + answer.error_text());
  }
  std::map<std::string, double> arrived;
  const auto collect = [&](const std::vector<Listener::Received>& received) {
    for (std::size_t k = before; k < received.size(); ++k) {
      auto decoded = fleet::decode_alarm(reinterpret_cast<const uint8_t*>(received[k].payload.data()),
                                         received[k].payload.size());
      auto* a = std::get_if<fleet::HubAlarm>(&decoded);
      if (a && a->alarm.rule == "U8" && asked.count(a->hub_id) && !arrived.count(a->hub_id))
        arrived[a->hub_id] = received[k].mono_s;
    }
    return arrived.size() >= static_cast<std::size_t>(n);
  };
  if (!alarms.wait(collect, 60s))
    throw std::runtime_error(std::to_string(n - static_cast<int>(arrived.size())) +
                             " hubs' alarms did not reach the fleet subscriber within 60 s");
  std::vector<double> alarm_s;
  for (const auto& [hub, at] : arrived) alarm_s.push_back(at - asked[hub]);
  for (auto& api : clients) api->door_action("front", "close");
  report_pair("fleet: alarm at " + std::to_string(n) + " hubs -> fleet subscriber", percentiles_ms(alarm_s),
              percentiles_ms(floor_s),
              "from the API request that opens the door on a locked lock (U8) through the hub's outbox to lk-fleet's "
              "subscription. Floor: the same number of bare QoS 1 publishes by one client through the same broker" +
                  std::string(fleet.bridged() ? " and the first hub's bridge" : ""));
}

}  // namespace latchkey::fleetsim
