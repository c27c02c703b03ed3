// Files that must survive a crash whole or not at all: the one implementation
// of "replace a small file atomically and durably" (sync cursors, peers.json).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ctihub {

// Replaces `path` with `text`: written to `path.tmp` (created with `mode`),
// fsync'd, renamed over `path`, then the directory fsync'd, so after a crash
// the file holds either the old or the new text. Creates the parent directory
// if missing. Failures are Unavailable named `error_name`.
Status WriteFileDurably(const std::string& path, std::string_view text, std::string_view error_name,
                        unsigned mode = 0644);

// The whole file, or nullopt when it does not exist. Other read failures are
// Unavailable named `error_name`.
Result<std::optional<std::string>> ReadFileIfPresent(const std::string& path,
                                                     std::string_view error_name);

}  // namespace ctihub
