// The status page in real headless Chromium at phone width (390 px), driven
// by a real latchkeyd: a camera freezes during a delivery, and the page's
// DOM shows what a person watching the door must see - an alarm banner and
// a changed title until they acknowledge it, the door's remote unlock
// refused with the rule and the camera that is not LIVE, recording only
// while the session is open, dates with their time zone, and no sideways
// scrolling. Skipped where Chromium is not installed (CI installs it).
#include "daemon_fixture.hpp"

#include <headless_chromium.hpp>

#include <regex>

namespace latchkey::tests {
namespace {

// The remote-unlock cell of a door, as the page shows it.
std::string remote_unlock_js(const std::string& door, const std::string& what) {
  return "(() => { const c = document.querySelector('.remote-unlock[data-door=\"" + door + "\"]'); return c ? " +
         what + " : null; })()";
}

class StatusPage : public DaemonTest {
 protected:
  void SetUp() override {
    if (!HeadlessChromium::find()) GTEST_SKIP() << "Chromium is not installed (tools/install-deps.sh installs it)";
    start_hub();
    browser_ = std::make_unique<HeadlessChromium>(390, 844);
    browser_->navigate(hub_->endpoint().url() + "/#token=" + hub_->token());
    ASSERT_TRUE(browser_->wait_until(remote_unlock_js("front", "c.dataset.allowed === 'true'"), 15s))
        << "the page never showed the front door's remote unlock as allowed";
  }

  std::string text(const std::string& expression) { return browser_->evaluate(expression).toString(); }

  std::unique_ptr<HeadlessChromium> browser_;
};

TEST_F(StatusPage, U1_FreezeDuringADeliveryShowsTheBannerAndTheRefusalNamingTheCamera) {
  EXPECT_TRUE(browser_->evaluate("document.getElementById('alarm-banner').hidden").extract<bool>());
  EXPECT_EQ(text("document.title"), "Latchkey hub status");

  unlock("front");
  ASSERT_TRUE(browser_->wait_until("document.querySelector('#cameras td.mono, #cameras span.mono') !== null", 10s))
      << "the porch camera never showed the recording";
  fault("porch", "freeze");

  ASSERT_TRUE(browser_->wait_until("!document.getElementById('alarm-banner').hidden", 15s)) << "no alarm banner";
  EXPECT_EQ(text("document.title").rfind("ALARM", 0), 0u) << text("document.title");
  ASSERT_TRUE(browser_->wait_until(remote_unlock_js("front", "c.dataset.allowed === 'false' && c.dataset.rule === 'U1'"), 15s))
      << text(remote_unlock_js("front", "c.textContent"));
  const std::string refusal = text(remote_unlock_js("front", "c.textContent"));
  EXPECT_NE(refusal.find("porch"), std::string::npos) << refusal;
  EXPECT_NE(refusal.find("not LIVE"), std::string::npos) << refusal;

  // The session ended (U5 relock): no camera shows a recording any more.
  ASSERT_TRUE(browser_->wait_until("document.querySelector('#cameras span.mono') === null", 15s))
      << "a camera still shows a recording after the session ended";

  // Dates carry their zone: the alarm row's time ends in the zone name.
  const std::string when = text("document.querySelector('#alarms tr td:nth-child(2)').textContent");
  EXPECT_TRUE(std::regex_search(when, std::regex(R"(^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+$)"))) << when;

  // The camera's picture (the simulated camera offers snapshots).
  EXPECT_TRUE(browser_->wait_until(
      "(() => { const i = document.querySelector('img.snapshot[data-camera=\"porch\"]'); "
      "return !!i && i.complete && i.naturalWidth > 0; })()", 15s))
      << "no picture from camera porch";

  // 390 px: nothing wider than the screen.
  EXPECT_TRUE(browser_->evaluate("document.documentElement.scrollWidth <= window.innerWidth").extract<bool>())
      << "scrollWidth " << text("document.documentElement.scrollWidth") << " > " << text("window.innerWidth");

  // Acknowledged: the banner goes and the title returns; the refusal stays.
  browser_->evaluate("document.getElementById('alarm-ack').click(), true");
  EXPECT_TRUE(browser_->wait_until("document.getElementById('alarm-banner').hidden", 5s));
  EXPECT_EQ(text("document.title"), "Latchkey hub status");
  EXPECT_EQ(text(remote_unlock_js("front", "c.dataset.allowed")), "false");
}

}  // namespace
}  // namespace latchkey::tests
