#include "plugin_probe.hpp"

#include <latchkey/latchkey.h>
#include <latchkey/host/plugin.hpp>

#include <dlfcn.h>
#include <elf.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>

namespace latchkey::certify {
namespace {

template <class T>
bool read_at(const std::vector<char>& bytes, std::size_t offset, T* out) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return false;
  std::memcpy(out, bytes.data() + offset, sizeof(T));
  return true;
}

void probe_log(void*, lk_log_level, const char*) {}
uint64_t probe_clock(void*) {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

struct ChildAnswer {
  int32_t result;
  uint32_t info_set;
  uint32_t abi_version;
};

lk_host_services probe_services{sizeof(lk_host_services), nullptr, &probe_log, &probe_clock};

// In the child: the plugin's entry point, loaded and never unloaded; exits 3
// when the file does not load and 4 without the entry symbol.
lk_plugin_negotiate_fn entry_in_child(const std::filesystem::path& file) {
  void* lib = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) _exit(3);
  void* symbol = dlsym(lib, LK_PLUGIN_ENTRY_SYMBOL);
  if (symbol == nullptr) _exit(4);
  lk_plugin_negotiate_fn negotiate = nullptr;
  std::memcpy(&negotiate, &symbol, sizeof negotiate);
  return negotiate;
}

// Runs in the child: load, negotiate once, write the answer, exit without unloading.
[[noreturn]] void negotiate_in_child(const std::filesystem::path& file, const ProbeRequest& req, int fd) {
  const lk_plugin_negotiate_fn negotiate = entry_in_child(file);
  lk_negotiate_request request{};
  request.struct_size = req.short_request ? 4u : static_cast<uint32_t>(sizeof request);
  request.min_abi_version = req.min_version;
  request.max_abi_version = req.max_version;
  request.host = &probe_services;
  const lk_plugin_info* info = nullptr;
  ChildAnswer answer{};
  try {
    answer.result = negotiate(req.null_request ? nullptr : &request, &info);
  } catch (...) {
    _exit(5);
  }
  answer.info_set = info != nullptr;
  answer.abi_version = info != nullptr ? info->abi_version : 0;
  if (write(fd, &answer, sizeof answer) != static_cast<ssize_t>(sizeof answer)) _exit(6);
  _exit(0);
}

// The questions asked of get_interface, in order.
std::vector<std::pair<std::string, uint32_t>> lookup_questions() {
  std::vector<std::pair<std::string, uint32_t>> q;
  for (const KnownInterface& k : known_interfaces()) {
    q.emplace_back(k.name, k.major);
    q.emplace_back(k.name, 0);
    q.emplace_back(k.name, k.major + 1);
  }
  for (const std::string& name : lookup_unknown_names()) q.emplace_back(name, 1);
  return q;
}

struct ChildLookup {
  int32_t result;
  uint32_t table_set;
};

// Runs in the child: load, negotiate 1.0-1.0, ask every lookup question, write the answers.
[[noreturn]] void lookups_in_child(const std::filesystem::path& file, int fd) {
  const lk_plugin_negotiate_fn negotiate = entry_in_child(file);
  lk_negotiate_request request{};
  request.struct_size = sizeof request;
  request.min_abi_version = request.max_abi_version = host::kAbiVersion1_0;
  request.host = &probe_services;
  const lk_plugin_info* info = nullptr;
  try {
    if (negotiate(&request, &info) != LK_OK || info == nullptr || info->get_interface == nullptr) _exit(7);
    for (const auto& [name, major] : lookup_questions()) {
      const void* table = nullptr;
      ChildLookup answer{info->get_interface(name.c_str(), major, &table), table != nullptr};
      if (write(fd, &answer, sizeof answer) != static_cast<ssize_t>(sizeof answer)) _exit(6);
    }
  } catch (...) {
    _exit(5);
  }
  _exit(0);
}

}  // namespace

const std::vector<KnownInterface>& known_interfaces() {
  static const std::vector<KnownInterface> interfaces = {
      {LK_LOCK_INTERFACE_NAME, LK_LOCK_INTERFACE_MAJOR},
      {LK_CAMERA_INTERFACE_NAME, LK_CAMERA_INTERFACE_MAJOR},
      {LK_AUTHZ_INTERFACE_NAME, LK_AUTHZ_INTERFACE_MAJOR},
      {LK_TEST_CONTROL_INTERFACE_NAME, LK_TEST_CONTROL_INTERFACE_MAJOR},
  };
  return interfaces;
}

const std::vector<std::string>& lookup_unknown_names() {
  static const std::vector<std::string> names = {"lk-certify.no_such_interface", "latchkey.lock2", "latchkey.camera.v2",
                                                 "latchkey.", "latchkey"};
  return names;
}

std::optional<std::vector<ExportedSymbol>> exported_symbols(const std::filesystem::path& file, std::string* error) {
  std::ifstream in(file, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Elf64_Ehdr eh{};
  if (!read_at(bytes, 0, &eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) {
    *error = "not a 64-bit ELF file";
    return std::nullopt;
  }
  std::vector<Elf64_Shdr> sections(eh.e_shnum);
  for (std::size_t i = 0; i < sections.size(); ++i)
    if (!read_at(bytes, eh.e_shoff + i * sizeof(Elf64_Shdr), &sections[i])) {
      *error = "truncated section header table";
      return std::nullopt;
    }
  std::vector<ExportedSymbol> out;
  for (const Elf64_Shdr& sh : sections) {
    if (sh.sh_type != SHT_DYNSYM || sh.sh_link >= sections.size() || sh.sh_entsize != sizeof(Elf64_Sym)) continue;
    const Elf64_Shdr& strtab = sections[sh.sh_link];
    for (std::size_t k = 1; k < sh.sh_size / sizeof(Elf64_Sym); ++k) {
      Elf64_Sym sym{};
      if (!read_at(bytes, sh.sh_offset + k * sizeof(Elf64_Sym), &sym)) break;
      const unsigned bind = ELF64_ST_BIND(sym.st_info);
      const unsigned vis = ELF64_ST_VISIBILITY(sym.st_other);
      if (sym.st_shndx == SHN_UNDEF || vis != STV_DEFAULT) continue;
      if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE) continue;
      if (sym.st_shndx == SHN_ABS && sym.st_value == 0) continue;  // a version node name
      if (sym.st_name >= strtab.sh_size || strtab.sh_offset + sym.st_name >= bytes.size()) continue;
      const char* name = bytes.data() + strtab.sh_offset + sym.st_name;
      out.push_back({std::string(name, strnlen(name, bytes.size() - strtab.sh_offset - sym.st_name)),
                     bind == STB_GNU_UNIQUE});
    }
  }
  return out;
}

const std::vector<ProbeRequest>& negotiation_requests() {
  using host::make_abi_version;
  static const std::vector<ProbeRequest> requests = {
      {"host range 1.0-1.0", make_abi_version(1, 0), make_abi_version(1, 0), false, false, false},
      {"host range 0.1-1.0", make_abi_version(0, 1), make_abi_version(1, 0), false, false, false},
      {"host range 1.0-1.9", make_abi_version(1, 0), make_abi_version(1, 9), false, false, false},
      // Two ranges that differ only far above any released minor: the
      // highest version in the overlap is the same for both (TC-ABI-1.4).
      {"host range 1.0-1.249", make_abi_version(1, 0), make_abi_version(1, 249), false, false, false},
      {"host range 1.0-1.250", make_abi_version(1, 0), make_abi_version(1, 250), false, false, false},
      {"host range 2.0-3.0 (no overlap)", make_abi_version(2, 0), make_abi_version(3, 0), false, false, true},
      {"host range 0.0-0.9 (no overlap)", make_abi_version(0, 0), make_abi_version(0, 9), false, false, true},
      {"NULL request", 0, 0, true, false, true},
      {"request with struct_size 4", make_abi_version(1, 0), make_abi_version(1, 0), false, true, true},
  };
  return requests;
}

NegotiationProbe probe_negotiation(const std::filesystem::path& file) {
  NegotiationProbe probe;
  probe.ran = true;
  for (const ProbeRequest& req : negotiation_requests()) {
    int fds[2];
    if (pipe(fds) != 0) {
      probe.ran = false;
      probe.error = "pipe() failed";
      return probe;
    }
    const pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      negotiate_in_child(file, req, fds[1]);
    }
    close(fds[1]);
    ChildAnswer answer{};
    pollfd pfd{fds[0], POLLIN, 0};
    const bool ready = poll(&pfd, 1, 5000) > 0;
    const ssize_t got = ready ? read(fds[0], &answer, sizeof answer) : 0;
    close(fds[0]);
    if (!ready) kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (got != static_cast<ssize_t>(sizeof answer)) {
      probe.ran = false;
      probe.error = req.label + ": " +
                    (!ready                 ? std::string("lk_plugin_negotiate did not return within 5 s")
                     : WIFSIGNALED(status) ? "the plugin crashed (signal " + std::to_string(WTERMSIG(status)) + ")"
                     : WEXITSTATUS(status) == 3 ? std::string("the library does not load")
                     : WEXITSTATUS(status) == 4 ? std::string("lk_plugin_negotiate is not exported")
                     : WEXITSTATUS(status) == 5 ? std::string("an exception escaped lk_plugin_negotiate")
                                                : "the probe failed (exit " + std::to_string(WEXITSTATUS(status)) + ")");
      return probe;
    }
    probe.answers.push_back({req.label, answer.result, answer.info_set != 0, answer.abi_version});
  }
  probe_lookups(file, &probe);
  return probe;
}

void probe_lookups(const std::filesystem::path& file, NegotiationProbe* probe) {
  const auto questions = lookup_questions();
  int fds[2];
  if (pipe(fds) != 0) {
    probe->lookup_error = "pipe() failed";
    return;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    lookups_in_child(file, fds[1]);
  }
  close(fds[1]);
  std::vector<ChildLookup> answers(questions.size());
  const std::size_t want = answers.size() * sizeof(ChildLookup);
  std::size_t got = 0;
  bool hung = false;
  while (got < want) {
    pollfd pfd{fds[0], POLLIN, 0};
    if (poll(&pfd, 1, 5000) <= 0) {
      hung = true;
      break;
    }
    const ssize_t n = read(fds[0], reinterpret_cast<char*>(answers.data()) + got, want - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  close(fds[0]);
  if (hung) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  // Answers up to a crash still count: the crash is named after them.
  for (std::size_t i = 0; i < got / sizeof(ChildLookup); ++i)
    probe->lookups.push_back({questions[i].first, questions[i].second, answers[i].result, answers[i].table_set != 0});
  if (got == want) {
    probe->lookups_ran = true;
    return;
  }
  const std::string at = got / sizeof(ChildLookup) < questions.size()
                             ? "get_interface(\"" + questions[got / sizeof(ChildLookup)].first + "\", " +
                                   std::to_string(questions[got / sizeof(ChildLookup)].second) + ")"
                             : std::string("the lookups");
  probe->lookup_error = hung                   ? at + " did not return within 5 s"
                        : WIFSIGNALED(status) ? at + " crashed the probe (signal " + std::to_string(WTERMSIG(status)) + ")"
                        : WEXITSTATUS(status) == 7
                            ? std::string("negotiating host range 1.0-1.0 failed or gave no get_interface")
                            : "the lookup probe failed (exit " + std::to_string(WEXITSTATUS(status)) + ")";
}

}  // namespace latchkey::certify
