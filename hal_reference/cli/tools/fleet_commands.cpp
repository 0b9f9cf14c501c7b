// lkctl revoke and publish-revocations: what an issuer does to revoke grants
// at a hub through the fleet broker (docs/fleet.md "Revocations", G1).
#include "commands.hpp"

#include <latchkey/client/key_files.hpp>
#include <latchkey/fleet/protocol.hpp>
#include <latchkey/fleet/revocation.hpp>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iostream>
#include <stdexcept>

namespace client = latchkey::client;
namespace crypto = latchkey::crypto;
namespace fleet = latchkey::fleet;

namespace lkctl {

namespace {

int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string read_password(const std::string& file) {
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line)) throw UsageError("--password-file " + file + ": cannot be read");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) throw UsageError("--password-file " + file + ": the first line is empty");
  return line;
}

struct PublishState {
  bool connected = false;
  int connack = -1;   // the broker's answer to CONNECT, once it came
  int sent_mid = -1;
  int acked_reason = -1;  // the PUBACK's reason code, once it came
};

// One QoS 1 publication, retained, confirmed by the broker's PUBACK (MQTT 5:
// a refusal, e.g. by the broker's ACL, comes back as a reason code >= 0x80).
void publish_retained(const CommandLine& args, const std::string& topic, const std::string& payload) {
  const std::string host = args.required("host");
  const bool tls = args.has("tls");
  const int port = static_cast<int>(args.integer("port", 1, 65535, tls ? 8883 : 1883));
  const int64_t timeout_s = args.integer("timeout-s", 1, 600, 10);
  std::string user = args.value("user").value_or("");
  std::string password;
  if (const auto file = args.value("password-file")) password = read_password(*file);
  if (!password.empty() && user.empty()) throw UsageError("--password-file needs --user");
  if (args.has("tls-ca-file") && !tls) throw UsageError("--tls-ca-file needs --tls");

  mosquitto_lib_init();
  struct Cleanup {
    mosquitto* mosq = nullptr;
    ~Cleanup() {
      if (mosq) mosquitto_destroy(mosq);
      mosquitto_lib_cleanup();
    }
  } cleanup;
  PublishState state;
  const std::string client_id = "lkctl-" + std::to_string(::getpid());
  cleanup.mosq = mosquitto_new(client_id.c_str(), true, &state);
  mosquitto* mosq = cleanup.mosq;
  if (!mosq) throw std::runtime_error("cannot create an MQTT client");
  const auto check = [](int rc, const std::string& what) {
    if (rc != MOSQ_ERR_SUCCESS) throw std::runtime_error(what + ": " + mosquitto_strerror(rc));
  };
  check(mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5), "MQTT 5");
  if (!user.empty()) check(mosquitto_username_pw_set(mosq, user.c_str(), password.empty() ? nullptr : password.c_str()),
                           "user name and password");
  if (tls) {
    const std::string ca = args.value("tls-ca-file").value_or("");
    check(mosquitto_tls_set(mosq, ca.empty() ? nullptr : ca.c_str(), ca.empty() ? "/etc/ssl/certs" : nullptr, nullptr,
                            nullptr, nullptr),
          "TLS set-up");
  }
  mosquitto_connect_v5_callback_set(mosq, [](mosquitto*, void* obj, int rc, int, const mosquitto_property*) {
    auto* s = static_cast<PublishState*>(obj);
    s->connack = rc;
    s->connected = rc == 0;
  });
  mosquitto_publish_v5_callback_set(mosq, [](mosquitto*, void* obj, int mid, int reason, const mosquitto_property*) {
    auto* s = static_cast<PublishState*>(obj);
    if (mid == s->sent_mid) s->acked_reason = reason;
  });
  check(mosquitto_connect(mosq, host.c_str(), port, 30), "cannot connect to " + host + ":" + std::to_string(port));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  const auto run_until = [&](const std::function<bool()>& done, const std::string& waiting_for) {
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("no " + waiting_for + " from " + host + ":" + std::to_string(port) + " within " +
                                 std::to_string(timeout_s) + " s");
      const int rc = mosquitto_loop(mosq, 100, 1);
      if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN && !(state.connack > 0))
        throw std::runtime_error(std::string("the connection to the broker failed: ") + mosquitto_strerror(rc));
      if (state.connack > 0)
        throw std::runtime_error("the broker refused the connection: " +
                                 std::string(mosquitto_reason_string(state.connack)));
    }
  };
  run_until([&] { return state.connected; }, "CONNACK");
  int mid = 0;
  check(mosquitto_publish_v5(mosq, &mid, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, true,
                             nullptr),
        "publish on " + topic);
  state.sent_mid = mid;
  run_until([&] { return state.acked_reason >= 0; }, "PUBACK");
  if (state.acked_reason >= 0x80)
    throw std::runtime_error("the broker refused the publication on " + topic + ": " +
                             mosquitto_reason_string(state.acked_reason) + " (check the fleet ACL: the issuer's user "
                             "needs write access to latchkey/fleet/v1/+/down/revocations/<key id>)");
  mosquitto_disconnect(mosq);
}

}  // namespace

int run_revoke(const CommandLine& args) {
  const crypto::KeyPair issuer = client::read_secret_key(args.required("issuer"));
  fleet::RevocationList list;
  list.issuer_key_id = args.required("key-id");
  list.hub_id = args.required("hub");
  list.sequence = static_cast<uint64_t>(args.integer("sequence", 1, INT64_MAX, 0));
  if (list.sequence == 0) throw UsageError("--sequence is required (1 for an issuer's first list for this hub)");
  list.issued_wall_ms = unix_now_ms();
  for (const std::string& grant : args.values("grant")) {
    const auto bytes = crypto::from_hex(grant);
    if (!bytes || bytes->size() != fleet::kGrantIdBytes)
      throw UsageError("--grant '" + grant + "' is not a grant id of 32 hex digits");
    list.grant_ids.insert(crypto::to_hex(*bytes));
  }
  if (std::string problem = fleet::revocation_list_problem(list); !problem.empty()) throw UsageError(problem);
  const std::string signed_list = fleet::encode_signed_revocation_list(list, issuer.secret_key);
  const std::string summary = "revocation list " + list.issuer_key_id + " #" + std::to_string(list.sequence) +
                              " for hub " + list.hub_id + ": " + std::to_string(list.grant_ids.size()) + " grant(s)";
  if (const auto out = args.value("out")) {
    client::write_hex_file(*out, crypto::view(signed_list));
    std::cerr << summary << " written to " << *out << "\n";
  } else {
    std::cout << crypto::to_hex(crypto::view(signed_list)) << "\n";
    std::cerr << summary << "\n";
  }
  return kExitOk;
}

int run_publish_revocations(const CommandLine& args) {
  const std::string file = args.required("file");
  const crypto::Bytes bytes = client::read_hex_file(file);
  auto peeked = fleet::peek_revocation_list(bytes.data(), bytes.size());
  if (auto* problem = std::get_if<std::string>(&peeked)) throw UsageError("--file " + file + ": " + *problem);
  const fleet::RevocationList& list = std::get<fleet::RevocationList>(peeked);
  std::string topic;
  try {
    topic = fleet::revocations_topic(list.hub_id, list.issuer_key_id);
  } catch (const std::invalid_argument& e) {
    throw UsageError("--file " + file + ": " + e.what());
  }
  publish_retained(args, topic, std::string(bytes.begin(), bytes.end()));
  std::cerr << "revocation list " << list.issuer_key_id << " #" << list.sequence << " (" << list.grant_ids.size()
            << " grant(s)) published, retained, on " << topic << "\n";
  return kExitOk;
}

}  // namespace lkctl
