#include "auth/password_policy.h"

#include <gtest/gtest.h>

namespace ctihub::auth {
namespace {

void ExpectWeak(std::string_view pw, std::string_view user = "alice") {
  Status st = CheckNewPassword(pw, user);
  EXPECT_FALSE(st.ok()) << pw;
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument) << pw;
  EXPECT_EQ(st.name(), "weak_password") << st.message();
  EXPECT_EQ(st.message().find(std::string(pw)), std::string::npos) << "never echo the password";
}

TEST(PasswordPolicy, RefusesShortPasswords) {
  for (std::string_view pw : {"x", "s3cret", "Tr0ub4dor&3", "k9#mQ2vL!pZ"}) ExpectWeak(pw);
  EXPECT_TRUE(CheckNewPassword("k9#mQ2vL!pZw", "alice").ok());  // 12 characters
}

TEST(PasswordPolicy, CountsCharactersNotBytes) {
  // 11 characters in 22 bytes: still too short.
  ExpectWeak(
      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
  EXPECT_TRUE(CheckNewPassword("d\xc3\xa9j\xc3\xa0 vu, mon vieux", "alice").ok());
}

TEST(PasswordPolicy, RefusesTheCommonestPasswords) {
  for (std::string_view pw : {"qwerty123456", "Password1234", "1q2w3e4r5t6y", "123456789012",
                              "iloveyou1234", "QWERTYUIOP123"}) {
    EXPECT_TRUE(IsCommonPassword(pw)) << pw;
    ExpectWeak(pw);
  }
  EXPECT_FALSE(IsCommonPassword("correct horse battery staple"));
}

TEST(PasswordPolicy, RefusesRepeatsSequencesAndGuessedWords) {
  for (std::string_view pw : {"zzzzzzzzzzzz", "abcabcabcabc", "opqrstuvwxyz", "987654321098"}) {
    ExpectWeak(pw);
  }
  for (std::string_view pw : {"P@ssw0rd-2024!", "Welcome-2026!", "ctihub-ctihub-1"}) ExpectWeak(pw);
}

TEST(PasswordPolicy, RefusesTheUserName) {
  ExpectWeak("administrator7", "administrator7");
  ExpectWeak("Marguerite-1987", "marguerite");
  EXPECT_TRUE(CheckNewPassword("Marguerite-1987", "alice").ok());
}

TEST(PasswordPolicy, RefusesHugePasswords) {
  ExpectWeak(std::string(kMaxPasswordBytes + 1, 'k') + "9#mQ2");
  EXPECT_TRUE(CheckNewPassword("long enough and not on any list", "").ok());
}

}  // namespace
}  // namespace ctihub::auth
