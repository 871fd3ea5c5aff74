// The spool's on-disk format (internal): checking a file before touching it,
// creating the schema, tuning a connection. Errors are one line naming the path.
#pragma once
#include <string>

#include "spool/sqlite.hpp"

namespace journey::spool {

// 2: events stored as chunks with per-sink bitmaps (spool/chunk.hpp); a version 1
// file is migrated in place when its owner opens it.
constexpr int kFormatVersion = 2;
constexpr int kApplicationId = 0x4A524E59;  // "JRNY"

// Looks at an existing file without writing to it. Returns "" when the path is
// absent, empty, or a spool of a version this build reads; else the error.
std::string inspect_file(const std::string& path);

// Connection settings for the owner's writer (durability: normal | strict).
int configure_writer(Db& db, const std::string& durability);
int configure_reader(Db& db);
// The checkpointer's connection: same sync level as the writer's, no autocheckpoint.
int configure_checkpointer(Db& db, const std::string& durability);

// Creates the tables when the database is new; checks them otherwise.
bool ensure_schema(Db& db, const std::string& path, std::string* error);

// PRAGMA quick_check; "" when fine, else its first finding.
std::string quick_check(Db& db);

}  // namespace journey::spool
