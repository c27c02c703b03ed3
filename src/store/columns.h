// How the SQL backends (SQLite, PostgreSQL) write the Store's values into
// columns and read them back: one implementation, so both backends store and
// compare alike. For backends only. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/timestamp.h"
#include "store/store.h"

namespace ctihub::store {

// Lists (collection ACLs) as one text column: entries joined by '\n' (an
// entry never contains one: checks.h ValidateAclEntries).
std::string JoinList(const std::vector<std::string>& items);
std::vector<std::string> SplitList(std::string_view text);

// A stored timestamp column (token created, status request_timestamp);
// Internal on corrupt text.
Result<Timestamp> ParseStoredTimestamp(std::string_view text);

// Object versions are stored as Timestamp::Format(9): fixed width, so text
// (byte) order is time order. version_digits keeps the written precision.
std::string VersionKey(const Timestamp& t);
Result<Timestamp> StoredVersion(std::string_view key, int64_t digits);

// The version text a status resource shows for an object.
std::string StatusVersionText(const NewObject& o, int64_t date_added_us);

// The recipients column: '' for none, else '|r1|r2|' with '%' and '|' inside
// an id written %25 and %7C, so "'|' + escaped id + '|' occurs in it" is an
// exact membership test (never a prefix or substring match); RecipientNeedle
// is that search string.
std::string EncodeRecipients(const std::vector<std::string>& ids);
std::string RecipientNeedle(std::string_view id);
std::vector<std::string> DecodeRecipients(std::string_view text);

// The granular column: 0 no granular TLP/PAP marking; 1 some, highest
// levels not recorded (rows written before they were); 2 + (tlp + 1) +
// 6 * (pap + 1) with the highest granular TLP (-1..4) and PAP (-1..3) codes.
int64_t EncodeGranular(const AccessFacts& a);
void DecodeGranular(int64_t v, AccessFacts& a);

}  // namespace ctihub::store
