// Test harness for journeyd as a real process: spawn (posix_spawn), read the
// ready line for the port, signal, wait; plus a small blocking HTTP client.
// Not thread-safe per object; use one Journeyd per test.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace jdtest {

// A fresh directory under TMPDIR, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class Journeyd {
 public:
  // Starts bin/journeyd with args (plus --listen 127.0.0.1:0 unless given) and
  // extra environment entries; waits up to 15 s for the ready line.
  // ok() is false when it exited or printed no ready line; exit_code() then tells.
  explicit Journeyd(std::vector<std::string> args, std::map<std::string, std::string> env = {},
                    bool add_listen = true);
  ~Journeyd();  // SIGKILL when still running

  bool ok() const { return port_ != 0; }
  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& ready_line() const { return ready_; }
  void signal(int sig);
  // Exit status (or 128+signal) once exited within timeout, else nullopt.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  std::string stderr_text() const;
  long peak_rss_kib() const;  // VmHWM while running

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string ready_;
  std::string stderr_path_;
  std::optional<int> exit_;
};

// Runs journeyd to completion (bad flags); returns exit code and stderr.
struct RunResult {
  int code = -1;
  std::string out, err;
};
RunResult run_journeyd(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {});
// Any program of bin/ (e.g. "journeyctl"), or one given by a path with a '/', to completion.
RunResult run_bin(const std::string& name, const std::vector<std::string>& args,
                  const std::map<std::string, std::string>& env = {});

struct HttpResult {
  int status = 0;  // 0: no answer (connection failed or closed)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// A blocking TCP connection to 127.0.0.1:port; -1 when refused. The caller closes it.
int connect_loopback(uint16_t port);

HttpResult http(uint16_t port, const std::string& method, const std::string& target, const std::string& body = "",
                const std::map<std::string, std::string>& headers = {},
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

std::string gzip(const std::string& data);
std::string read_file(const std::string& path);
// A metric value from /metrics text: the sample whose name+labels text equals series; nullopt if absent.
std::optional<double> metric(const std::string& metrics_text, const std::string& series);

}  // namespace jdtest
