// lk-bench-camera-link: the figures of the real camera link (docs/camera-link.md):
// lk-camera-agent, Mosquitto and the hub's net_camera plugin.
//
//   lk-bench-camera-link <figure> --dir <scratch dir> [options]
//     nonce-echo [--periods 20,100 --trials N --nodelay-periods 20]
//                                               nonce-to-echo latency p50/p99
//                                               (--nodelay-periods "": no TCP_NODELAY variant)
//     agent-cpu  [--sizes 1280x720,1920x1080 --seconds S]  agent CPU per frame
//     hub-cpu    [--counts 1,8,32 --seconds S]  hub CPU per network camera
//
// Prints ROW lines for bench/run.sh's table; progress goes to stderr. The
// commands decode, hub-cpu-one and publisher are the children the figures
// start.
#include "figures.hpp"

#include <unistd.h>

#include <cstdio>
#include <map>
#include <sstream>
#include <string>

namespace {

std::string self_exe() {
  char path[4096];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  return n > 0 ? std::string(path, static_cast<std::size_t>(n)) : std::string();
}

template <typename T>
std::vector<T> list(const std::string& text) {
  std::vector<T> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if constexpr (std::is_same_v<T, std::string>) out.push_back(item);
    else out.push_back(static_cast<T>(std::stoul(item)));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: lk-bench-camera-link nonce-echo|agent-cpu|hub-cpu --dir <dir> [options]\n");
    return 2;
  }
  const std::string figure = argv[1];
  std::map<std::string, std::string> opt;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--", 0) == 0 && i + 1 < argc) {
      opt[a.substr(2)] = argv[++i];
    } else {
      std::fprintf(stderr, "lk-bench-camera-link: unknown argument '%s'\n", a.c_str());
      return 2;
    }
  }
  const auto text = [&](const std::string& key, const std::string& fallback) {
    return opt.count(key) ? opt[key] : fallback;
  };
  const auto number = [&](const std::string& key, unsigned long fallback) {
    return opt.count(key) ? std::stoul(opt[key]) : fallback;
  };
  namespace b = latchkey::bench;
  try {
    if (figure == "decode") return b::run_decode_floor(text("file", ""), text("measure", "0") == "1");
    if (figure == "publisher")
      return b::run_publisher("127.0.0.1", static_cast<uint16_t>(number("port", 0)), text("credentials", ""),
                              number("cameras", 1), static_cast<uint32_t>(number("rate-hz", 10)));
    if (!opt.count("dir")) {
      std::fprintf(stderr, "lk-bench-camera-link: --dir is required\n");
      return 2;
    }
    const std::filesystem::path dir = std::filesystem::absolute(opt["dir"]);
    if (figure == "nonce-echo")
      return b::run_nonce_echo(self_exe(), dir / "nonce-echo", list<uint32_t>(text("periods", "20,100")),
                               number("trials", 300), list<uint32_t>(text("nodelay-periods", "20")),
                               number("tcp-nodelay", 0) != 0);
    if (figure == "agent-cpu")
      return b::run_agent_cpu(self_exe(), dir / "agent-cpu", list<std::string>(text("sizes", "1280x720,1920x1080")),
                              static_cast<uint32_t>(number("seconds", 10)));
    if (figure == "hub-cpu")
      return b::run_hub_cpu(self_exe(), dir / "hub-cpu", list<std::size_t>(text("counts", "1,8,32")),
                            static_cast<uint32_t>(number("seconds", 10)));
    if (figure == "hub-cpu-one")
      return b::run_hub_cpu_one(self_exe(), dir, number("cameras", 1), static_cast<uint32_t>(number("seconds", 10)),
                                static_cast<uint16_t>(number("port", 0)), text("hub-password-file", ""),
                                text("credentials", ""), number("silent", 0) != 0);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lk-bench-camera-link %s: %s\n", figure.c_str(), e.what());
    return 1;
  }
  std::fprintf(stderr, "lk-bench-camera-link: unknown figure '%s'\n", figure.c_str());
  return 2;
}
