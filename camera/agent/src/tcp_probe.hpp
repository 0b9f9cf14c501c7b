// Whether the broker's port accepts a TCP connection, checked before each
// MQTT connection attempt. libmosquitto 2.0.11 spins at full CPU on an
// asynchronous TLS connect to a port that refuses (SSL_connect reports a
// system error and the client keeps waiting for the handshake), so the agent
// finds out first, with its own timeout, and gets a plain reason to log.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace latchkey::camera {

// Resolves host and tries each address for up to timeout_ms in all, giving
// up early when stop is set. Empty when one accepted; else why not.
std::string probe_tcp(const std::string& host, uint16_t port, int timeout_ms, const std::atomic<bool>& stop);

}  // namespace latchkey::camera
