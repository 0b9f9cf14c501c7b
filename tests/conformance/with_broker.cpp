// certify_with_broker: runs one command next to a private hub broker
// (tests/support/mosquitto_broker.hpp: the shipped ACL, passwords for "hub"
// and one camera), for the lk-certify --agent tests. Every argument of the
// command may name the broker with these placeholders:
//
//   @BROKER_PORT@           the broker's port on 127.0.0.1
//   @HUB_PASSWORD_FILE@     the hub user's password file
//   @CAMERA_PASSWORD_FILE@  the camera's password file
//   @WORK_DIR@              a fresh folder for the agent's key and recordings (removed after)
//   @PASSWORD_FILE_<USER>@  the password file of a --user
//
//   certify_with_broker [--camera ID] [--user NAME]... [--acl FILE] -- COMMAND [ARG]...
//
// --user adds a broker user the ACL may name (Zigbee2MQTT's, for z2m_lock);
// --acl replaces the shipped ACL (tools/broker/zigbee2mqtt.acl for z2m_lock).
//
// Exit status: the command's; 2 on a usage error; 3 when the broker or the
// command cannot be started.
#include "mosquitto_broker.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace {

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) text.replace(at, from.size(), to);
  return text;
}

int run(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return 3;
  if (pid == 0) {
    ::execvp(args[0], args.data());
    std::cerr << "certify_with_broker: cannot run " << argv[0] << "\n";
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

}  // namespace

constexpr const char* kUsage = "usage: certify_with_broker [--camera ID] [--user NAME]... [--acl FILE] -- COMMAND [ARG]...\n";

int main(int argc, char** argv) {
  std::string camera;
  std::vector<std::string> users;
  std::string acl;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "--camera" && i + 1 < argc) camera = argv[++i];
    else if (a == "--user" && i + 1 < argc) users.emplace_back(argv[++i]);
    else if (a == "--acl" && i + 1 < argc) acl = argv[++i];
    else {
      std::cerr << kUsage;
      return 2;
    }
  }
  if ((camera.empty() && users.empty()) || i >= argc) {
    std::cerr << kUsage;
    return 2;
  }
  std::string work = (std::filesystem::temp_directory_path() / "lk-certify-agent-XXXXXX").string();
  if (::mkdtemp(work.data()) == nullptr) {
    std::cerr << "certify_with_broker: cannot create a work folder\n";
    return 3;
  }
  int status = 3;
  try {
    latchkey::testing::BrokerOptions options;
    if (!camera.empty()) options.cameras = {camera};
    options.extra_users = users;
    if (!acl.empty()) options.acl_file = acl;
    latchkey::testing::MosquittoBroker broker(options);
    std::vector<std::string> command;
    for (; i < argc; ++i) {
      std::string a = argv[i];
      a = replace_all(a, "@BROKER_PORT@", std::to_string(broker.port()));
      a = replace_all(a, "@HUB_PASSWORD_FILE@", broker.password_file(latchkey::testing::MosquittoBroker::kHubUser).string());
      if (!camera.empty()) a = replace_all(a, "@CAMERA_PASSWORD_FILE@", broker.password_file(camera).string());
      for (const std::string& user : users)
        a = replace_all(a, "@PASSWORD_FILE_" + user + "@", broker.password_file(user).string());
      a = replace_all(a, "@WORK_DIR@", work);
      command.push_back(a);
    }
    std::cout << "certify_with_broker: broker on 127.0.0.1:" << broker.port() << ", work folder " << work << std::endl;
    status = run(command);
    if (status != 0) std::cout << "certify_with_broker: the broker's log:\n" << broker.log() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "certify_with_broker: " << e.what() << "\n";
  }
  if (std::getenv("LATCHKEY_KEEP_BROKER_DIR") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(work, ignored);
  }
  return status;
}
