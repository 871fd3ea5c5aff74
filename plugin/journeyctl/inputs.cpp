#include "inputs.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace journeyctl {

bool read_input(const std::string& file, std::string* out, std::string* error) {
  std::FILE* f = file == "-" ? stdin : std::fopen(file.c_str(), "rb");
  if (!f) {
    *error = std::strerror(errno);
    return false;
  }
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out->append(buf, n);
  const bool ok = !std::ferror(f);
  if (!ok) *error = std::strerror(errno);
  if (f != stdin) std::fclose(f);
  return ok;
}

DataDir check_data_dir(const char* command, const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return DataDir::directory;
  if (std::filesystem::exists(dir, ec)) {
    std::fprintf(stderr, "journeyctl %s: note: --data-dir %s is not a directory\n", command, dir.c_str());
    return DataDir::not_directory;
  }
  std::fprintf(stderr, "journeyctl %s: note: --data-dir %s does not exist (journeyd makes it when it starts)\n",
               command, dir.c_str());
  return DataDir::missing;
}

bool spool_file(const Flags& flags, const char* command, SpoolFile* out, std::string* error) {
  const bool file = flags.values.count("spool") != 0, dir = flags.values.count("data-dir") != 0;
  if (file && dir) {
    *error = "--spool and --data-dir: give one of them";
    return false;
  }
  if (file) {
    out->path = flags.get("spool", "");
    std::error_code ec;
    if (out->path.empty() || !std::filesystem::exists(out->path, ec)) {
      *error = "--spool: " + (out->path.empty() ? std::string("must not be empty") : "no such file: " + out->path);
      return false;
    }
    return true;
  }
  const std::string data_dir = flags.get("data-dir", "./journey-data");
  if (data_dir.empty()) {
    *error = "--data-dir: must not be empty";
    return false;
  }
  out->dir = check_data_dir(command, data_dir);
  out->path = data_dir + "/spool.db";
  return true;
}

}  // namespace journeyctl
