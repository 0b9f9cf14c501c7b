// The parts of lk-demo, each driving the running hub through the API and
// checking the outcome docs/rules.md promises. A failed expectation is recorded
// in the timeline and the demo goes on with the next part.
#ifndef LATCHKEY_DEMO_DEMO_STEPS_HPP
#define LATCHKEY_DEMO_DEMO_STEPS_HPP

#include "timeline.hpp"

#include <latchkey/client/api_client.hpp>
#include <latchkey/client/grant_minting.hpp>
#include <latchkey/demo/delivery.hpp>
#include <latchkey/demo/sim_hub.hpp>

#include <string>

namespace lkdemo {

struct Demo {
  latchkey::demo::SimHub& hub;
  latchkey::client::ApiClient& api;
  Timeline& timeline;
  latchkey::demo::Courier courier;
  latchkey::client::MintedGrant first_grant;  // the grant of part a, replayed in part c
};

// a. A grant, a challenge, the proof, the unlock; the courier opens and
//    closes the door; the hub relocks and the session completes (U8).
void normal_delivery(Demo& demo);
// b. The camera freezes with the door open (alarm at once, relock when it
//    closes) and with the door closed (relock at once) (U5).
void freeze_attack(Demo& demo);
// c. A replayed grant (G3), an expired one, one for another door and a forged one (G1).
void refused_grants(Demo& demo);
// d. A camera goes offline outside any delivery: camera-offline alarm (C6).
void camera_offline(Demo& demo);

// e. The camera plugin's host process is killed: F1 alarm, unlock denied,
//    the host restarted, the cameras LIVE again (docs/isolation.md).
void plugin_crash(Demo& d);

// Clears camera faults and waits until every camera is LIVE again.
bool settle(Demo& demo);

}  // namespace lkdemo

#endif  // LATCHKEY_DEMO_DEMO_STEPS_HPP
