// The commonest passwords of 12 characters or more (shorter ones fail the
// length rule first), lower case, written from the well-known top lists of
// leaked passwords (keyboard walks, repeated digits, "password" variants).
// A short list on purpose: it stops the passwords tried first, not a
// dictionary attack (the length rule and Argon2id do that).
#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <string_view>

#include "auth/password_policy.h"

namespace ctihub::auth {
namespace {

constexpr std::string_view kCommonPasswords[] = {
    "000000000000",     "0987654321qwerty", "1111111111111",  "111111111111",
    "1122334455667788", "123123123123",     "12341234123412", "123412341234",
    "1234567890123",    "123456789012",     "1234567890abc",  "1234567890qwerty",
    "123456789abc",     "123456123456",     "1234qwerasdf",   "1234qwerasdfzxcv",
    "123qweasdzxc",     "1q2w3e4r5t6y",     "1q2w3e4r5t6y7u", "1qaz2wsx3edc",
    "1qaz2wsx3edc4rfv", "987654321000",     "999999999999",   "!qaz2wsx#edc",
    "!qaz@wsx#edc",     "a1b2c3d4e5f6",     "aaaaaaaaaaaa",   "abc123456789",
    "abcd1234abcd",     "abcdefghijkl",     "adminadmin123",  "admin@123456",
    "administrator",    "administrator1",   "asdfghjkl123",   "asdfghjkl;'",
    "baseball1234",     "changeme1234",     "changeme123!",   "dragon123456",
    "football1234",     "iloveyou1234",     "iloveyou123!",   "jennifer1234",
    "letmein12345",     "letmeinletmein",   "michael12345",   "monkey123456",
    "p@ssw0rd1234",     "p@ssw0rd123!",     "p@ssword1234",   "passw0rd1234",
    "password0000",     "password1111",     "password1234",   "password12345",
    "password123!",     "password123456",   "password@123",   "passwordpassword",
    "princess1234",     "q1w2e3r4t5y6",     "qazwsxedcrfv",   "qazwsxedc123",
    "qwe123qwe123",     "qwer1234asdf",     "qwerty123456",   "qwerty1234567",
    "qwerty123456789",  "qwertyqwerty",     "qwertyuiop12",   "qwertyuiop123",
    "qwertyuiopasdf",   "qwertyuiopasdfgh", "starwars1234",   "sunshine1234",
    "superman1234",     "trustno1trustno1", "welcome12345",   "welcome@1234",
    "welcome123456",    "zaq12wsxcde3",     "zaq1xsw2cde3",   "zxcvbnm12345",
    "zxcvbnmasdfghjkl",
};

}  // namespace

bool IsCommonPassword(std::string_view password) {
  std::string lower(password);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(std::begin(kCommonPasswords), std::end(kCommonPasswords), lower) !=
         std::end(kCommonPasswords);
}

}  // namespace ctihub::auth
