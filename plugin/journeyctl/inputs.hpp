// What journeyctl subcommands read: a FILE or stdin, a data dir.
#pragma once
#include <string>

#include "flags.hpp"

namespace journeyctl {

// The whole of `file` ("-": stdin) into *out. False with *error (strerror) when it
// cannot be opened or read.
bool read_input(const std::string& file, std::string* out, std::string* error);

// For the commands that read DIR/spool.db and find nothing when DIR is missing: a
// note on stderr ("... --data-dir DIR does not exist ..." or "... is not a
// directory"), so a mistyped path is not read as an empty spool. Returns what DIR is.
enum class DataDir { directory, missing, not_directory };
DataDir check_data_dir(const char* command, const std::string& dir);

// The spool a command reads: --spool FILE (an application's SDK spool, its
// spool_path) or DIR/spool.db of --data-dir DIR (default ./journey-data, noted by
// check_data_dir when it is not a directory). False with *error naming the flag
// when both are given, one is empty, or FILE does not exist.
struct SpoolFile {
  std::string path;
  DataDir dir = DataDir::directory;
};
bool spool_file(const Flags& flags, const char* command, SpoolFile* out, std::string* error);

}  // namespace journeyctl
