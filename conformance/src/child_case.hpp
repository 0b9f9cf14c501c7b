// Runs a case body in a forked child process, so that a plugin that crashes,
// hangs or exits in the middle of a TC-ABI case fails that case and the run
// goes on (the TC-ABI cases call the plugin loaded into lk-certify).
//
// The child is forked from the running test's thread: the plugin is already
// loaded there, and the case opens its own in-process handles. Only the
// forking thread exists in the child, so a case body run this way must not
// rely on the suite's other threads (the isolated runner's supervisor, a
// device runner): the TC-ABI bodies do not. The child runs the body under
// GoogleTest as usual, sends its failures, skip message and "measured"
// property to the parent over a pipe and leaves with _exit (no destructors,
// no atexit handlers, no leak check); the parent replays them into the test.
// A child that dies by a signal, does not finish within the time allowed
// (then killed) or exits without its results fails the case, naming the
// signal, the last step the case reached (note_case_step) and, for a fault
// in a guard page, the buffer (guarded_buffer.hpp).
#ifndef LATCHKEY_CERTIFY_CHILD_CASE_HPP
#define LATCHKEY_CERTIFY_CHILD_CASE_HPP

#include <chrono>
#include <functional>
#include <string>

namespace latchkey::certify {

// Runs body in a child process inside the current GoogleTest test; returns
// (or GTEST_SKIPs) in the parent with the child's verdict replayed.
void run_case_in_child(const std::function<void()>& body, std::chrono::seconds timeout);

// The time a TC-ABI case may take in its child before it counts as hung
// (LK_CERTIFY_CASE_TIMEOUT_S in the environment overrides it, for tests).
inline constexpr std::chrono::seconds kChildCaseTimeout{60};

// Records the step the case has reached ("camera.snapshot(short buffer)"),
// shown when the plugin crashes the case. Does nothing outside a child case.
void note_case_step(const std::string& step);

}  // namespace latchkey::certify

#endif  // LATCHKEY_CERTIFY_CHILD_CASE_HPP
