// One line of the `ctihub pattern validate|match --batch` JSON Lines protocol.
// Shared by the CLI and the conformance tests. Not thread-safe (the parser is
// reused); returns the output line without a trailing newline.
#pragma once

#include <string>
#include <string_view>

#include "core/json.h"

namespace ctihub::pattern {

// Input {"id", "pattern", "stix_version"}; output {"id","result":"valid"|"invalid","message"}.
std::string ValidateBatchLine(json::JsonParser& parser, std::string_view line);
// Input {"id","pattern","stix_version","observed":[...]}; output
// {"id","result":"match"|"nomatch"|"error","message"[,"bindings":[...]]}.
std::string MatchBatchLine(json::JsonParser& parser, std::string_view line);

}  // namespace ctihub::pattern
