// Whole-file output of the `heed` subcommands that write files (SVGs).
#pragma once

#include <string>

namespace heed::cli {

// Writes `data` to `path` whole or not at all: a temporary file beside it,
// renamed over it once complete (a failure removes the temporary). On
// failure *err is "cannot write PATH: REASON" (PATH in escape_text form).
bool write_whole_file(const std::string& path, const std::string& data, std::string* err);

// True when `path` exists and is the same file as `other` (same device and
// inode): an output must never replace the model it was made from.
bool same_file(const std::string& path, const std::string& other);

}  // namespace heed::cli
