#include "harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace jdtest {
namespace {

std::string bin_path(const std::string& name) {
  return name.find('/') != std::string::npos ? name : std::string(JOURNEY_BIN_DIR) + "/" + name;
}

std::vector<std::string> make_env(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    if (kv.rfind("JOURNEY_", 0) == 0 && kv.rfind("JOURNEY_UNDER_SANITIZER", 0) != 0) continue;
    env.push_back(kv);
  }
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}

pid_t spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env_extra, int out_fd,
            const std::string& err_path, const std::string& program = "journeyd") {
  std::vector<std::string> argv_s{bin_path(program)};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  auto env_s = make_env(env_extra);
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("posix_spawn " + argv_s[0] + ": " + std::strerror(rc));
  return pid;
}

int decode_status(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st); }

}  // namespace

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "journeyd-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}
TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Journeyd::Journeyd(std::vector<std::string> args, std::map<std::string, std::string> env, bool add_listen) {
  if (add_listen) {
    args.insert(args.begin(), "127.0.0.1:0");
    args.insert(args.begin(), "--listen");
  }
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  char tmpl[] = "/tmp/journeyd-stderr-XXXXXX";
  int efd = mkstemp(tmpl);
  close(efd);
  stderr_path_ = tmpl;
  pid_ = spawn(args, env, fds[1], stderr_path_);
  close(fds[1]);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  std::string line;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fds[0], POLLIN, 0};
    int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
    if (poll(&p, 1, std::max(left, 1)) <= 0) break;
    char c;
    ssize_t n = read(fds[0], &c, 1);
    if (n <= 0) break;
    if (c == '\n') break;
    line += c;
  }
  // Keep the pipe's read end open in a background drain so later writes never block.
  int rfd = fds[0];
  std::thread([rfd] {
    char buf[256];
    while (read(rfd, buf, sizeof buf) > 0) {
    }
    close(rfd);
  }).detach();
  ready_ = line;
  auto colon = line.rfind(':');
  if (line.rfind("journeyd listening on http://", 0) == 0 && colon != std::string::npos)
    port_ = static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
}

Journeyd::~Journeyd() {
  if (!exit_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    int st;
    waitpid(pid_, &st, 0);
  }
  std::remove(stderr_path_.c_str());
}

void Journeyd::signal(int sig) {
  if (!exit_) kill(pid_, sig);
}

std::optional<int> Journeyd::wait_exit(std::chrono::milliseconds timeout) {
  if (exit_) return exit_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      exit_ = decode_status(st);
      return exit_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // waitpid has no timeout
  }
}

std::string Journeyd::stderr_text() const { return read_file(stderr_path_); }

long Journeyd::peak_rss_kib() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

RunResult run_journeyd(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  return run_bin("journeyd", args, env);
}

RunResult run_bin(const std::string& name, const std::vector<std::string>& args,
                  const std::map<std::string, std::string>& env) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  char tmpl[] = "/tmp/journeyd-stderr-XXXXXX";
  close(mkstemp(tmpl));
  pid_t pid = spawn(args, env, fds[1], tmpl, name);
  close(fds[1]);
  RunResult r;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) r.out.append(buf, size_t(n));
  close(fds[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  r.code = decode_status(st);
  r.err = read_file(tmpl);
  std::remove(tmpl);
  return r;
}

int connect_loopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

HttpResult http(uint16_t port, const std::string& method, const std::string& target, const std::string& body,
                const std::map<std::string, std::string>& headers, std::chrono::milliseconds timeout) {
  HttpResult res;
  int fd = connect_loopback(port);
  if (fd < 0) return res;
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  bool has_ct = false;
  for (const auto& [k, v] : headers) {
    req += k + ": " + v + "\r\n";
    if (strcasecmp(k.c_str(), "content-type") == 0) has_ct = true;
  }
  (void)has_ct;
  if (!body.empty() || method == "POST") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n";
  req += body;
  size_t off = 0;
  while (off < req.size()) {
    ssize_t n = send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may answer (413) and close before the body is in
    off += size_t(n);
  }
  std::string raw;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, left) <= 0) break;
    char buf[65536];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, size_t(n));
  }
  close(fd);
  auto end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return res;
  res.status = std::stoi(raw.substr(9, 3));
  std::istringstream hs(raw.substr(0, end));
  std::string line;
  std::getline(hs, line);
  while (std::getline(hs, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
    res.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
  }
  res.body = raw.substr(end + 4);
  return res;
}

std::string gzip(const std::string& data) {
  z_stream zs{};
  deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = uInt(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = uInt(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<double> metric(const std::string& text, const std::string& series) {
  std::istringstream is(text);
  std::string line;
  while (std::getline(is, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

}  // namespace jdtest
