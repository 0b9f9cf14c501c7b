// lk-bench-hub: the end-to-end figures on the in-process hub runtime.
//
//   lk-bench-hub <figure> --dir <data dir on a real disk> [options]
//     unlock      [--trials N]              unlock decision latency p50/p99
//     fleet       [--trials N]              the same with the fleet link off / broker up / broker down
//     audit       [--singles N --batches N] audit append throughput
//     camera-loss [--cameras N --trials N]  camera-loss detection under load
//     memory      [--counts 10,100,...]     resident size per camera count
//
// Prints ROW lines for bench/run.sh's table; progress goes to stderr.
#include "figures.hpp"
#include "stats.hpp"

#include <sys/vfs.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>
#include <string>

namespace {

constexpr long kTmpfsMagic = 0x01021994;

std::string self_exe() {
  char path[4096];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  return n > 0 ? std::string(path, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: lk-bench-hub unlock|fleet|audit|camera-loss|memory --dir <dir> [options]\n");
    return 2;
  }
  const std::string figure = argv[1];
  std::map<std::string, std::string> opt;
  bool bench_cameras = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--bench-cameras") bench_cameras = true;
    else if (a.rfind("--", 0) == 0 && i + 1 < argc) opt[a.substr(2)] = argv[++i];
    else {
      std::fprintf(stderr, "lk-bench-hub: unknown argument '%s'\n", a.c_str());
      return 2;
    }
  }
  const auto number = [&](const std::string& key, std::size_t fallback) {
    return opt.count(key) ? static_cast<std::size_t>(std::stoul(opt[key])) : fallback;
  };
  if (!opt.count("dir")) {
    std::fprintf(stderr, "lk-bench-hub: --dir is required\n");
    return 2;
  }
  const std::filesystem::path dir = std::filesystem::absolute(opt["dir"]);
  std::filesystem::create_directories(dir);
  struct statfs fs {};
  if (::statfs(dir.c_str(), &fs) == 0 && static_cast<long>(fs.f_type) == kTmpfsMagic) {
    std::fprintf(stderr, "lk-bench-hub: %s is on tmpfs; the audit figures need a real disk\n", dir.c_str());
    return 2;
  }
  try {
    namespace b = latchkey::bench;
    if (figure == "unlock") return b::run_unlock_latency(dir, number("trials", 200));
    if (figure == "fleet") return b::run_fleet_outage(dir, number("trials", 100));
    if (figure == "audit") return b::run_audit_throughput(dir, number("singles", 300), number("batches", 30));
    if (figure == "camera-loss") return b::run_camera_loss(dir, number("cameras", 2000), number("trials", 30));
    if (figure == "memory-one") return b::run_memory_one(dir, number("cameras", 1), bench_cameras);
    if (figure == "memory") {
      std::vector<std::size_t> counts;
      std::stringstream list(opt.count("counts") ? opt["counts"] : "10,100,1000,2000");
      for (std::string item; std::getline(list, item, ',');) counts.push_back(std::stoul(item));
      return b::run_memory(self_exe(), dir, counts);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lk-bench-hub %s: %s\n", figure.c_str(), e.what());
    return 1;
  }
  std::fprintf(stderr, "lk-bench-hub: unknown figure '%s'\n", figure.c_str());
  return 2;
}
