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

}  // namespace journeyctl
