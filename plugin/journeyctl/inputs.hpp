// What journeyctl subcommands read: a FILE or stdin, a data dir.
#pragma once
#include <string>

namespace journeyctl {

// The whole of `file` ("-": stdin) into *out. False with *error (strerror) when it
// cannot be opened or read.
bool read_input(const std::string& file, std::string* out, std::string* error);

// For the commands that read DIR/spool.db and find nothing when DIR is missing: a
// note on stderr ("... --data-dir DIR does not exist ..." or "... is not a
// directory"), so a mistyped path is not read as an empty spool. Returns what DIR is.
enum class DataDir { directory, missing, not_directory };
DataDir check_data_dir(const char* command, const std::string& dir);

}  // namespace journeyctl
