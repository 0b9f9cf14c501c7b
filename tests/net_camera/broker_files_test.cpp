// The shipped broker files (tools/broker/) say what docs/camera-link.md and
// docs/broker.md say: the ACL rules line for line, and the settings the
// contract relies on.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Lines that are neither empty nor comments.
std::vector<std::string> rules(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') out.push_back(line);
  return out;
}

// The first ``` block after the heading.
std::string block_after(const std::string& text, const std::string& heading) {
  const std::size_t at = text.find(heading);
  if (at == std::string::npos) return "";
  const std::size_t open = text.find("```\n", at);
  const std::size_t close = text.find("```", open + 4);
  if (open == std::string::npos || close == std::string::npos) return "";
  return text.substr(open + 4, close - open - 4);
}

TEST(BrokerFiles, TheShippedAclIsTheContractsAcl) {
  const auto shipped = rules(read(LATCHKEY_SOURCE_DIR "/tools/broker/latchkey.acl"));
  const auto contract = rules(block_after(read(LATCHKEY_SOURCE_DIR "/docs/camera-link.md"), "## Who may publish what"));
  ASSERT_FALSE(shipped.empty());
  EXPECT_EQ(shipped, contract);
}

TEST(BrokerFiles, TheShippedConfigurationRefusesAnonymousClientsAndLimitsSizes) {
  const auto conf = rules(read(LATCHKEY_SOURCE_DIR "/tools/broker/mosquitto-latchkey.conf"));
  auto has = [&](const std::string& line) {
    for (const std::string& l : conf)
      if (l == line) return true;
    return false;
  };
  EXPECT_TRUE(has("allow_anonymous false"));
  EXPECT_TRUE(has("per_listener_settings false"));
  EXPECT_TRUE(has("max_packet_size 8192"));
  EXPECT_TRUE(has("plugin /usr/local/lib/latchkey/latchkey_broker_guard.so"));
  EXPECT_TRUE(has("plugin_opt_hub_user hub"));
  EXPECT_TRUE(has("persistence false"));
  EXPECT_TRUE(has("acl_file /etc/latchkey/broker/latchkey.acl"));
  EXPECT_TRUE(has("password_file /etc/latchkey/broker/passwd"));
}

}  // namespace
