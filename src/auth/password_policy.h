// Rules for new passwords, after NIST SP 800-63B §5.1.1.2 (memorized secrets):
// at least 12 characters, no composition rules, and a new password is checked
// against a list of the commonest passwords, repetitive or sequential
// characters and context-specific words (the user name, "ctihub").
// Stateless and thread-safe.
#pragma once

#include <string_view>

#include "core/result.h"

namespace ctihub::auth {

inline constexpr size_t kMinPasswordChars = 12;    // Unicode code points
inline constexpr size_t kMaxPasswordBytes = 1024;  // bounds the hashing work

// Ok, or InvalidArgument naming the rule the password breaks (never the
// password itself): `weak_password: ...`.
Status CheckNewPassword(std::string_view password, std::string_view user_name);

// Whether `password` (compared case-insensitively) is on the committed list
// of the commonest passwords (common_passwords.cc).
bool IsCommonPassword(std::string_view password);

}  // namespace ctihub::auth
