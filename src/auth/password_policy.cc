#include "auth/password_policy.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace ctihub::auth {
namespace {

// Words that, padded with digits and symbols, make the passwords guessed first.
constexpr std::string_view kGuessedWords[] = {
    "password",   "passwd",   "psswrd",  "pssword", "passwrd", "qwerty",
    "qwertyuiop", "asdfgh",   "letmein", "welcome", "admin",   "administrator",
    "iloveyou",   "changeme", "secret",  "ctihub",  "taxii",   "stix",
    "default",    "login",    "master",  "test",
};

size_t CodePoints(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// The password's letters, lower case: "P@ssw0rd-2024!" -> "psswrd".
std::string LettersOf(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalpha(c)) out += static_cast<char>(std::tolower(c));
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// "aaaaaaaaaaaa", "abcabcabcabc", "123412341234": a unit of at most 4 repeated.
bool IsRepetitive(std::string_view s) {
  for (size_t unit = 1; unit <= 4 && unit < s.size(); ++unit) {
    bool repeats = true;
    for (size_t i = unit; i < s.size() && repeats; ++i) repeats = s[i] == s[i - unit];
    if (repeats) return true;
  }
  return false;
}

// The step from `a` to `b`: +1 or -1 for neighbours ('9' and '0' are
// neighbours, as on a keyboard's number row), else 0.
int StepBetween(unsigned char a, unsigned char b) {
  if (std::isdigit(a) && std::isdigit(b)) {
    const int d = (b - a + 10) % 10;
    return d == 1 ? 1 : d == 9 ? -1 : 0;
  }
  const int d = b - a;
  return d == 1 || d == -1 ? d : 0;
}

// "abcdefghijkl", "987654321098": every character one above (or below) the last.
bool IsSequential(std::string_view s) {
  if (s.size() < 2) return false;
  const int step = StepBetween(s[0], s[1]);
  if (step == 0) return false;
  for (size_t i = 2; i < s.size(); ++i) {
    if (StepBetween(s[i - 1], s[i]) != step) return false;
  }
  return true;
}

// Whether `letters` is `word` once or more: "ctihubctihub".
bool IsWordRepeated(std::string_view letters, std::string_view word) {
  if (letters.empty() || letters.size() % word.size() != 0) return false;
  for (size_t i = 0; i < letters.size(); i += word.size()) {
    if (letters.substr(i, word.size()) != word) return false;
  }
  return true;
}

Status Weak(const std::string& why) { return InvalidArgument("weak_password", why); }

}  // namespace

Status CheckNewPassword(std::string_view password, std::string_view user_name) {
  if (password.size() > kMaxPasswordBytes) {
    return Weak("the password is longer than " + std::to_string(kMaxPasswordBytes) + " bytes");
  }
  if (CodePoints(password) < kMinPasswordChars) {
    return Weak("the password must have at least " + std::to_string(kMinPasswordChars) +
                " characters");
  }
  if (IsCommonPassword(password)) return Weak("the password is one of the commonest passwords");
  if (IsRepetitive(password) || IsSequential(password)) {
    return Weak("the password is a repeated or sequential run of characters");
  }
  const std::string letters = LettersOf(password);
  if (!user_name.empty() &&
      (Lower(password) == Lower(user_name) || letters == LettersOf(user_name))) {
    return Weak("the password is the user name");
  }
  for (std::string_view word : kGuessedWords) {
    if (IsWordRepeated(letters, word)) {
      return Weak("the password is a commonly guessed word with digits or symbols around it");
    }
  }
  return Status::Ok();
}

}  // namespace ctihub::auth
