#define PCRE2_CODE_UNIT_WIDTH 8
#include "pattern/parser.h"

#include <pcre2.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "core/encoding.h"
#include "core/net.h"
#include "core/sco_types.h"

namespace ctihub::pattern {
namespace {

enum class Tok {
  kEnd,
  kLBrack,
  kRBrack,
  kLParen,
  kRParen,
  kColon,
  kDot,
  kComma,
  kStar,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kIdent,
  kString,
  kInt,
  kFloat,
  kBinary,
  kHex,
  kTimestamp,
  kAnd,
  kOr,
  kNot,
  kFollowedBy,
  kLike,
  kMatches,
  kIsSuperset,
  kIsSubset,
  kLast,
  kIn,
  kStart,
  kStop,
  kSeconds,
  kTrue,
  kFalse,
  kWithin,
  kRepeats,
  kTimes,
  kExists,
};

struct Token {
  Tok kind = Tok::kEnd;
  size_t pos = 0;
  size_t len = 0;
  std::string text;  // identifier text, unescaped string, literal body
};

const char* TokName(Tok t) {
  switch (t) {
    case Tok::kEnd:
      return "end of pattern";
    case Tok::kLBrack:
      return "'['";
    case Tok::kRBrack:
      return "']'";
    case Tok::kLParen:
      return "'('";
    case Tok::kRParen:
      return "')'";
    case Tok::kColon:
      return "':'";
    case Tok::kDot:
      return "'.'";
    case Tok::kComma:
      return "','";
    case Tok::kStar:
      return "'*'";
    case Tok::kEq:
      return "'='";
    case Tok::kNe:
      return "'!='";
    case Tok::kLt:
      return "'<'";
    case Tok::kLe:
      return "'<='";
    case Tok::kGt:
      return "'>'";
    case Tok::kGe:
      return "'>='";
    case Tok::kIdent:
      return "identifier";
    case Tok::kString:
      return "string literal";
    case Tok::kInt:
      return "integer literal";
    case Tok::kFloat:
      return "float literal";
    case Tok::kBinary:
      return "binary literal";
    case Tok::kHex:
      return "hex literal";
    case Tok::kTimestamp:
      return "timestamp literal";
    case Tok::kAnd:
      return "AND";
    case Tok::kOr:
      return "OR";
    case Tok::kNot:
      return "NOT";
    case Tok::kFollowedBy:
      return "FOLLOWEDBY";
    case Tok::kLike:
      return "LIKE";
    case Tok::kMatches:
      return "MATCHES";
    case Tok::kIsSuperset:
      return "ISSUPERSET";
    case Tok::kIsSubset:
      return "ISSUBSET";
    case Tok::kLast:
      return "LAST";
    case Tok::kIn:
      return "IN";
    case Tok::kStart:
      return "START";
    case Tok::kStop:
      return "STOP";
    case Tok::kSeconds:
      return "SECONDS";
    case Tok::kTrue:
      return "true";
    case Tok::kFalse:
      return "false";
    case Tok::kWithin:
      return "WITHIN";
    case Tok::kRepeats:
      return "REPEATS";
    case Tok::kTimes:
      return "TIMES";
    case Tok::kExists:
      return "EXISTS";
  }
  return "token";
}

struct Keyword {
  const char* text;
  Tok tok;
};
constexpr Keyword kKeywords[] = {
    {"AND", Tok::kAnd},
    {"OR", Tok::kOr},
    {"NOT", Tok::kNot},
    {"FOLLOWEDBY", Tok::kFollowedBy},
    {"LIKE", Tok::kLike},
    {"MATCHES", Tok::kMatches},
    {"ISSUPERSET", Tok::kIsSuperset},
    {"ISSUBSET", Tok::kIsSubset},
    {"LAST", Tok::kLast},
    {"IN", Tok::kIn},
    {"START", Tok::kStart},
    {"STOP", Tok::kStop},
    {"SECONDS", Tok::kSeconds},
    {"true", Tok::kTrue},
    {"false", Tok::kFalse},
    {"WITHIN", Tok::kWithin},
    {"REPEATS", Tok::kRepeats},
    {"TIMES", Tok::kTimes},
    {"EXISTS", Tok::kExists},
};

Status ErrorAt(size_t pos, const std::string& msg) {
  return InvalidArgument("at position " + std::to_string(pos) + ": " + msg);
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsB64(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' || c == '/';
}

// Length of a white-space character at s[i] (the grammar's WS set), 0 if none.
size_t WhiteSpaceLen(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') return 1;
  auto at = [&](size_t k) -> unsigned char {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0;
  };
  if (c == 0xC2 && (at(1) == 0x85 || at(1) == 0xA0)) return 2;
  if (c == 0xE1 && at(1) == 0x9A && at(2) == 0x80) return 3;
  if (c == 0xE2 && at(1) == 0x80 &&
      ((at(2) >= 0x80 && at(2) <= 0x8A) || at(2) == 0xA8 || at(2) == 0xA9 || at(2) == 0xAF))
    return 3;
  if (c == 0xE2 && at(1) == 0x81 && at(2) == 0x9F) return 3;
  if (c == 0xE3 && at(1) == 0x80 && at(2) == 0x80) return 3;
  return 0;
}

class Lexer {
 public:
  Lexer(std::string_view s, StixVersion v) : s_(s), v_(v) {}

  Status Run(std::vector<Token>* out) {
    size_t i = 0;
    while (true) {
      // white space and comments
      while (i < s_.size()) {
        size_t w = WhiteSpaceLen(s_, i);
        if (w) {
          i += w;
          continue;
        }
        if (s_[i] == '/' && i + 1 < s_.size() && s_[i + 1] == '*') {
          size_t end = s_.find("*/", i + 2);
          if (end == std::string_view::npos) return ErrorAt(i, "unterminated comment");
          i = end + 2;
          continue;
        }
        if (s_[i] == '/' && i + 1 < s_.size() && s_[i + 1] == '/') {
          while (i < s_.size() && s_[i] != '\n' && s_[i] != '\r') ++i;
          continue;
        }
        break;
      }
      Token t;
      t.pos = i;
      if (i >= s_.size()) {
        t.kind = Tok::kEnd;
        out->push_back(std::move(t));
        return Status::Ok();
      }
      char c = s_[i];
      auto single = [&](Tok k, size_t n) {
        t.kind = k;
        t.len = n;
        i += n;
      };
      if (c == '[')
        single(Tok::kLBrack, 1);
      else if (c == ']')
        single(Tok::kRBrack, 1);
      else if (c == '(')
        single(Tok::kLParen, 1);
      else if (c == ')')
        single(Tok::kRParen, 1);
      else if (c == ':')
        single(Tok::kColon, 1);
      else if (c == ',')
        single(Tok::kComma, 1);
      else if (c == '*')
        single(Tok::kStar, 1);
      else if (c == '=')
        single(Tok::kEq, Peek(i + 1) == '=' ? 2 : 1);
      else if ((c == '!' && Peek(i + 1) == '=') || (c == '<' && Peek(i + 1) == '>'))
        single(Tok::kNe, 2);
      else if (c == '<')
        single(Peek(i + 1) == '=' ? Tok::kLe : Tok::kLt, Peek(i + 1) == '=' ? 2 : 1);
      else if (c == '>')
        single(Peek(i + 1) == '=' ? Tok::kGe : Tok::kGt, Peek(i + 1) == '=' ? 2 : 1);
      else if (c == '.' && !IsDigit(Peek(i + 1)))
        single(Tok::kDot, 1);
      else if ((c == 'b' || c == 'h' || c == 't') && Peek(i + 1) == '\'') {
        size_t end = s_.find('\'', i + 2);
        if (end == std::string_view::npos) return ErrorAt(i, "unterminated literal");
        t.text = std::string(s_.substr(i + 2, end - i - 2));
        t.kind = c == 'b' ? Tok::kBinary : c == 'h' ? Tok::kHex : Tok::kTimestamp;
        t.len = end + 1 - i;
        i = end + 1;
      } else if (c == '\'') {
        size_t k = i + 1;
        std::string v;
        while (true) {
          if (k >= s_.size()) return ErrorAt(i, "unterminated string literal");
          char d = s_[k];
          if (d == '\'') break;
          if (d == '\\') {
            char e = Peek(k + 1);
            if (e != '\'' && e != '\\')
              return ErrorAt(k, "invalid escape in string literal (only \\' and \\\\ are allowed)");
            v.push_back(e);
            k += 2;
            continue;
          }
          v.push_back(d);
          ++k;
        }
        t.kind = Tok::kString;
        t.text = std::move(v);
        t.len = k + 1 - i;
        i = k + 1;
      } else if (IsDigit(c) || c == '.' ||
                 ((c == '+' || c == '-') && (IsDigit(Peek(i + 1)) || Peek(i + 1) == '.'))) {
        size_t k = i;
        if (c == '+' || c == '-') ++k;
        size_t int_start = k;
        while (k < s_.size() && IsDigit(s_[k])) ++k;
        size_t int_len = k - int_start;
        if (Peek(k) == '.') {
          size_t frac_start = k + 1;
          size_t m = frac_start;
          while (m < s_.size() && IsDigit(s_[m])) ++m;
          if (m == frac_start) return ErrorAt(k, "invalid number: digits expected after '.'");
          t.kind = Tok::kFloat;
          k = m;
        } else {
          if (int_len == 0) return ErrorAt(i, "invalid number");
          if (int_len > 1 && s_[int_start] == '0')
            return ErrorAt(i, "invalid integer: leading zero");
          t.kind = Tok::kInt;
        }
        if (IsAlpha(Peek(k)))
          return ErrorAt(k, "invalid number: unexpected character after digits");
        t.text = std::string(s_.substr(i, k - i));
        t.len = k - i;
        i = k;
      } else if (IsAlpha(c)) {
        size_t k = i + 1;
        while (k < s_.size() && (IsAlpha(s_[k]) || IsDigit(s_[k]) || s_[k] == '-')) ++k;
        t.text = std::string(s_.substr(i, k - i));
        t.kind = Tok::kIdent;
        for (const auto& kw : kKeywords) {
          if (t.text == kw.text) {
            if (kw.tok == Tok::kExists && v_ == StixVersion::k20) break;
            t.kind = kw.tok;
            break;
          }
        }
        t.len = k - i;
        i = k;
      } else {
        return ErrorAt(
            i, std::string("unexpected character '") +
                   (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f
                        ? std::string("\\x") + "0123456789abcdef"[(c >> 4) & 15] +
                              "0123456789abcdef"[c & 15]
                        : std::string(1, c)) +
                   "'");
      }
      out->push_back(std::move(t));
    }
  }

 private:
  char Peek(size_t i) const { return i < s_.size() ? s_[i] : '\0'; }
  std::string_view s_;
  StixVersion v_;
};

bool IsKnownType(std::string_view t) { return IsStixScoType(t); }

// Hash value check: returns an empty string when fine, else the reason.
std::string CheckHash(std::string_view algo, std::string_view value) {
  std::string a;
  for (char c : algo) {
    if (c == '-' || c == '_' || c == ' ') continue;
    a.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  auto all_hex = [](std::string_view v) { return IsHexDigits(v); };
  size_t want = 0;
  if (a == "MD5")
    want = 32;
  else if (a == "SHA1" || a == "RIPEMD160")
    want = 40;
  else if (a == "SHA224" || a == "SHA3224")
    want = 56;
  else if (a == "SHA256" || a == "SHA3256")
    want = 64;
  else if (a == "SHA384" || a == "SHA3384")
    want = 96;
  else if (a == "SHA512" || a == "SHA3512" || a == "WHIRLPOOL")
    want = 128;
  if (want) {
    if (value.size() != want || !all_hex(value))
      return "a " + std::string(algo) + " hash must be " + std::to_string(want) +
             " hexadecimal digits";
    return "";
  }
  if (a == "MD6") {
    if (value.empty() || !all_hex(value)) return "an MD6 hash must be hexadecimal";
    return "";
  }
  if (a == "TLSH") {
    std::string_view v = value;
    if (v.size() >= 72 && (v.substr(0, 2) == "T1" || v.substr(0, 2) == "t1")) v = v.substr(2);
    if (v.size() < 70 || !all_hex(v))
      return "a TLSH hash must be at least 70 hexadecimal digits (optionally prefixed with T1)";
    return "";
  }
  if (a == "SSDEEP") {
    // As the OASIS validator: base64 characters, ':' and '.', no structure required.
    auto ok = [](char c) { return IsB64(c) || c == ':' || c == '.'; };
    if (value.empty() || value.size() > 256 || !std::all_of(value.begin(), value.end(), ok))
      return "an SSDEEP hash has characters other than [A-Za-z0-9/+:.] or is too long";
    return "";
  }
  return "";
}

class Parser {
 public:
  Parser(std::vector<Token> toks, const PatternOptions& opt, ParsedPattern* out)
      : t_(std::move(toks)), opt_(opt), out_(out) {}

  Result<std::unique_ptr<ObsExpr>> Run() {
    CTIHUB_ASSIGN_OR_RETURN(auto root, ObsFollowedBy());
    if (Cur().kind != Tok::kEnd)
      return Expected("FOLLOWEDBY, OR, AND, a qualifier or end of pattern");
    return root;
  }

 private:
  const Token& Cur() const { return t_[p_]; }
  const Token& Next() { return t_[p_++]; }
  bool Accept(Tok k) {
    if (Cur().kind == k) {
      ++p_;
      return true;
    }
    return false;
  }
  std::string Found() const {
    const Token& t = Cur();
    if (t.kind == Tok::kEnd) return "end of pattern";
    if (t.kind == Tok::kIdent) return "identifier '" + t.text + "'";
    return TokName(t.kind);
  }
  Status Expected(const std::string& what) const {
    return ErrorAt(Cur().pos, "expected " + what + ", found " + Found());
  }
  Status Count() {
    if (++nodes_ > kMaxNodes)
      return LimitExceeded("pattern_too_large",
                           "more than " + std::to_string(kMaxNodes) + " nodes");
    return Status::Ok();
  }
  Status Enter() {
    if (++depth_ > kMaxNesting)
      return LimitExceeded("pattern_too_deep", "at position " + std::to_string(Cur().pos) +
                                                   ": nesting deeper than " +
                                                   std::to_string(kMaxNesting));
    return Status::Ok();
  }

  using ObsPtr = std::unique_ptr<ObsExpr>;
  using CompPtr = std::unique_ptr<CompExpr>;

  // Chains of one observation operator become one n-ary node (no deep trees
  // for long OR lists of indicators).
  template <typename Sub>
  Result<ObsPtr> Chain(Tok op, ObsExpr::Kind kind, Sub sub) {
    CTIHUB_ASSIGN_OR_RETURN(ObsPtr left, (this->*sub)());
    if (Cur().kind != op) return left;
    auto n = std::make_unique<ObsExpr>();
    n->kind = kind;
    n->pos = Cur().pos;
    n->children.push_back(std::move(left));
    while (Cur().kind == op) {
      ++p_;
      CTIHUB_RETURN_IF_ERROR(Count());
      CTIHUB_ASSIGN_OR_RETURN(ObsPtr right, (this->*sub)());
      n->children.push_back(std::move(right));
      if (kind != ObsExpr::Kind::kOr && n->children.size() > kMaxChainOperands)
        return LimitExceeded("pattern_too_large", "more than " + std::to_string(kMaxChainOperands) +
                                                      " operands joined by AND or FOLLOWEDBY");
    }
    return n;
  }
  Result<ObsPtr> ObsFollowedBy() {
    return Chain(Tok::kFollowedBy, ObsExpr::Kind::kFollowedBy, &Parser::ObsOr);
  }
  Result<ObsPtr> ObsOr() { return Chain(Tok::kOr, ObsExpr::Kind::kOr, &Parser::ObsAnd); }
  Result<ObsPtr> ObsAnd() { return Chain(Tok::kAnd, ObsExpr::Kind::kAnd, &Parser::ObsQualified); }

  Result<ObsPtr> ObsQualified() {
    bool bracketed = Cur().kind == Tok::kLBrack;
    CTIHUB_ASSIGN_OR_RETURN(ObsPtr e, ObsPrimary());
    // Qualifiers may be stacked, as the grammar allows; each wraps the
    // expression before it, so they apply innermost (leftmost) first. Like the
    // reference validator, one type twice directly on a bracketed expression
    // (`[a:b = 1] WITHIN 1 SECONDS WITHIN 2 SECONDS`) is invalid unless the
    // caller evaluates it as the reference matcher does; on a parenthesised
    // group it is fine.
    bool seen[3] = {false, false, false};  // WITHIN, REPEATS, START/STOP
    auto once = [&](int type, size_t pos, const char* name) -> Status {
      if (bracketed && !opt_.stacked_qualifiers_on_brackets && seen[type])
        return ErrorAt(pos,
                       std::string("duplicate qualifier type ") + name +
                           " on one bracketed observation expression (parenthesise it to stack)");
      seen[type] = true;
      return Status::Ok();
    };
    while (true) {
      const Token& q = Cur();
      if (q.kind == Tok::kWithin) {
        size_t pos = Next().pos;
        CTIHUB_RETURN_IF_ERROR(once(0, pos, "WITHIN"));
        const Token& n = Cur();
        double seconds;
        if (n.kind == Tok::kInt || n.kind == Tok::kFloat) {
          seconds = std::strtod(n.text.c_str(), nullptr);
          ++p_;
        } else {
          return Expected("a number of seconds after WITHIN");
        }
        if (!(seconds > 0)) return ErrorAt(n.pos, "WITHIN requires a positive number of seconds");
        if (!(seconds < 9.0e12)) return ErrorAt(n.pos, "WITHIN duration is too large");
        if (!Accept(Tok::kSeconds)) return Expected("SECONDS");
        CTIHUB_RETURN_IF_ERROR(Count());
        auto w = std::make_unique<ObsExpr>();
        w->kind = ObsExpr::Kind::kWithin;
        w->pos = pos;
        w->within_micros = static_cast<int64_t>(std::llround(seconds * 1e6));
        if (w->within_micros <= 0) w->within_micros = 1;
        w->children.push_back(std::move(e));
        e = std::move(w);
      } else if (q.kind == Tok::kRepeats) {
        size_t pos = Next().pos;
        CTIHUB_RETURN_IF_ERROR(once(1, pos, "REPEATS"));
        const Token& n = Cur();
        if (n.kind != Tok::kInt) return Expected("an integer after REPEATS");
        errno = 0;
        long long v = std::strtoll(n.text.c_str(), nullptr, 10);
        if (errno == ERANGE) return ErrorAt(n.pos, "REPEATS count is out of range");
        if (v <= 0) return ErrorAt(n.pos, "REPEATS requires a positive count");
        if (v > 1000000) return ErrorAt(n.pos, "REPEATS count is too large (limit 1000000)");
        ++p_;
        if (!Accept(Tok::kTimes)) return Expected("TIMES");
        CTIHUB_RETURN_IF_ERROR(Count());
        auto r = std::make_unique<ObsExpr>();
        r->kind = ObsExpr::Kind::kRepeats;
        r->pos = pos;
        r->repeats = v;
        r->children.push_back(std::move(e));
        e = std::move(r);
      } else if (q.kind == Tok::kStart) {
        size_t pos = Next().pos;
        CTIHUB_RETURN_IF_ERROR(once(2, pos, "START/STOP"));
        CTIHUB_ASSIGN_OR_RETURN(Timestamp start, QualifierTime("START"));
        if (!Accept(Tok::kStop)) return Expected("STOP");
        CTIHUB_ASSIGN_OR_RETURN(Timestamp stop, QualifierTime("STOP"));
        CTIHUB_RETURN_IF_ERROR(Count());
        auto s = std::make_unique<ObsExpr>();
        s->kind = ObsExpr::Kind::kStartStop;
        s->pos = pos;
        s->start = start;
        s->stop = stop;
        s->children.push_back(std::move(e));
        e = std::move(s);
      } else {
        break;
      }
    }
    return e;
  }

  Result<Timestamp> QualifierTime(const char* what) {
    const Token& n = Cur();
    if (n.kind == Tok::kTimestamp || (n.kind == Tok::kString && opt_.version == StixVersion::k20)) {
      ++p_;
      auto ts = ParseTimestampText(n.text, n.pos);
      if (!ts.ok()) return ts.status();
      return *ts;
    }
    if (n.kind == Tok::kString)
      return ErrorAt(n.pos, std::string("expected a timestamp literal t'...' after ") + what +
                                " (STIX 2.1; plain strings are STIX 2.0)");
    return Expected(std::string("a timestamp after ") + what);
  }

  Result<Timestamp> ParseTimestampText(const std::string& s, size_t pos) {
    // Grammar: YYYY-MM-DDTHH:MM:SS(.d+)?Z with upper-case T and Z.
    auto bad = [&](const std::string& why) {
      return ErrorAt(pos, "invalid timestamp '" + s + "': " + why);
    };
    bool shape = s.size() >= 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
                 s[16] == ':' && s.back() == 'Z';
    if (shape) {
      for (size_t k : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18})
        if (!IsDigit(s[k])) shape = false;
      if (s.size() > 20) {
        if (s[19] != '.' || s.size() < 22) shape = false;
        for (size_t k = 20; shape && k + 1 < s.size(); ++k)
          if (!IsDigit(s[k])) shape = false;
      }
    }
    if (!shape) return bad("expected YYYY-MM-DDTHH:MM:SS[.fraction]Z");
    auto r = Timestamp::Parse(s);
    if (!r.ok()) return bad(r.status().message());
    return *r;
  }

  Result<ObsPtr> ObsPrimary() {
    const Token& t = Cur();
    if (t.kind == Tok::kLBrack) {
      ++p_;
      CTIHUB_RETURN_IF_ERROR(Enter());
      CTIHUB_ASSIGN_OR_RETURN(CompPtr c, CompOr());
      if (!Accept(Tok::kRBrack)) return Expected("']' or AND/OR");
      --depth_;
      CTIHUB_RETURN_IF_ERROR(Count());
      CheckSameTypeAnd(*c);
      auto n = std::make_unique<ObsExpr>();
      n->kind = ObsExpr::Kind::kLeaf;
      n->pos = t.pos;
      n->comparison = std::move(c);
      return n;
    }
    if (t.kind == Tok::kLParen) {
      ++p_;
      CTIHUB_RETURN_IF_ERROR(Enter());
      CTIHUB_ASSIGN_OR_RETURN(ObsPtr e, ObsFollowedBy());
      if (!Accept(Tok::kRParen)) return Expected("')'");
      --depth_;
      return e;
    }
    return Expected("'[' or '(' (an observation expression)");
  }

  // Comparison expressions joined by AND must be satisfiable by one object:
  // warn (strict) when their possible object types do not intersect.
  std::set<std::string> Types(const CompExpr& c) {
    if (c.kind == CompExpr::Kind::kTest) return {c.path.type};
    std::set<std::string> acc;
    bool first = true;
    for (const auto& ch : c.children) {
      auto s = Types(*ch);
      if (c.kind == CompExpr::Kind::kOr || first) {
        acc.insert(s.begin(), s.end());
      } else {
        std::set<std::string> inter;
        for (const auto& x : acc)
          if (s.count(x)) inter.insert(x);
        acc = std::move(inter);
      }
      first = false;
    }
    return acc;
  }
  void CheckSameTypeAnd(const CompExpr& c) {
    if (!opt_.strict) return;
    if (c.kind == CompExpr::Kind::kAnd && Types(c).empty())
      out_->warnings.push_back(
          "at position " + std::to_string(c.pos) +
          ": comparisons joined by AND use different object types and can never match");
    for (const auto& ch : c.children) CheckSameTypeAnd(*ch);
  }

  Result<CompPtr> CompOr() {
    CTIHUB_ASSIGN_OR_RETURN(CompPtr left, CompAnd());
    if (Cur().kind != Tok::kOr) return left;
    auto n = std::make_unique<CompExpr>();
    n->kind = CompExpr::Kind::kOr;
    n->pos = left->pos;
    n->children.push_back(std::move(left));
    while (Accept(Tok::kOr)) {
      CTIHUB_RETURN_IF_ERROR(Count());
      CTIHUB_ASSIGN_OR_RETURN(CompPtr right, CompAnd());
      n->children.push_back(std::move(right));
    }
    return n;
  }
  Result<CompPtr> CompAnd() {
    CTIHUB_ASSIGN_OR_RETURN(CompPtr left, PropTest());
    if (Cur().kind != Tok::kAnd) return left;
    auto n = std::make_unique<CompExpr>();
    n->kind = CompExpr::Kind::kAnd;
    n->pos = left->pos;
    n->children.push_back(std::move(left));
    while (Accept(Tok::kAnd)) {
      CTIHUB_RETURN_IF_ERROR(Count());
      CTIHUB_ASSIGN_OR_RETURN(CompPtr right, PropTest());
      n->children.push_back(std::move(right));
    }
    return n;
  }

  Result<CompPtr> PropTest() {
    CTIHUB_RETURN_IF_ERROR(Count());
    const Token& t = Cur();
    if (t.kind == Tok::kLParen) {
      ++p_;
      CTIHUB_RETURN_IF_ERROR(Enter());
      CTIHUB_ASSIGN_OR_RETURN(CompPtr c, CompOr());
      if (!Accept(Tok::kRParen)) return Expected("')' or AND/OR");
      --depth_;
      return c;
    }
    auto n = std::make_unique<CompExpr>();
    n->kind = CompExpr::Kind::kTest;
    n->pos = t.pos;
    if (t.kind == Tok::kExists) {
      ++p_;
      n->op = CmpOp::kExists;
      CTIHUB_RETURN_IF_ERROR(Path(&n->path));
      return n;
    }
    if (t.kind == Tok::kNot && opt_.version == StixVersion::k21 && t_[p_ + 1].kind == Tok::kExists)
      return ErrorAt(t.pos, "NOT cannot be applied to EXISTS");
    CTIHUB_RETURN_IF_ERROR(Path(&n->path));
    if (Accept(Tok::kNot)) n->negated = true;
    const Token& op = Cur();
    size_t op_pos = op.pos;
    switch (op.kind) {
      case Tok::kEq:
        n->op = CmpOp::kEq;
        break;
      case Tok::kNe:
        n->op = CmpOp::kNe;
        break;
      case Tok::kLt:
        n->op = CmpOp::kLt;
        break;
      case Tok::kLe:
        n->op = CmpOp::kLe;
        break;
      case Tok::kGt:
        n->op = CmpOp::kGt;
        break;
      case Tok::kGe:
        n->op = CmpOp::kGe;
        break;
      case Tok::kIn:
        n->op = CmpOp::kIn;
        break;
      case Tok::kLike:
        n->op = CmpOp::kLike;
        break;
      case Tok::kMatches:
        n->op = CmpOp::kMatches;
        break;
      case Tok::kIsSubset:
        n->op = CmpOp::kIsSubset;
        break;
      case Tok::kIsSuperset:
        n->op = CmpOp::kIsSuperset;
        break;
      default:
        return Expected(
            "a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET)");
    }
    ++p_;
    if (n->op == CmpOp::kIn) {
      if (Cur().kind != Tok::kLParen)
        return ErrorAt(
            Cur().pos,
            "type mismatch: IN requires a set literal such as ('a', 'b'), found " + Found());
      ++p_;
      if (!Accept(Tok::kRParen)) {
        while (true) {
          Literal l;
          CTIHUB_RETURN_IF_ERROR(ReadLiteral(&l, true));
          if (!n->set.empty()) {
            LiteralKind k0 = n->set.front().kind;
            bool num0 = k0 == LiteralKind::kInt || k0 == LiteralKind::kFloat;
            bool num1 = l.kind == LiteralKind::kInt || l.kind == LiteralKind::kFloat;
            if (k0 != l.kind && !(num0 && num1))
              return ErrorAt(l.pos, "type mismatch: set literal mixes values of different types");
          }
          n->set.push_back(std::move(l));
          if (Accept(Tok::kRParen)) break;
          if (!Accept(Tok::kComma)) return Expected("',' or ')' in set literal");
        }
      }
      CTIHUB_RETURN_IF_ERROR(CheckHashes(*n));
      return n;
    }
    if (Cur().kind == Tok::kLParen)
      return ErrorAt(Cur().pos, "type mismatch: a set literal can only be used with IN");
    CTIHUB_RETURN_IF_ERROR(ReadLiteral(&n->literal, n->op == CmpOp::kEq || n->op == CmpOp::kNe));
    const Literal& l = n->literal;
    switch (n->op) {
      case CmpOp::kLt:
      case CmpOp::kLe:
      case CmpOp::kGt:
      case CmpOp::kGe:
        if (l.kind == LiteralKind::kBool)
          return ErrorAt(l.pos, "type mismatch: booleans cannot be ordered");
        break;
      case CmpOp::kLike:
        if (l.kind != LiteralKind::kString)
          return ErrorAt(l.pos, "type mismatch: LIKE requires a string literal");
        break;
      case CmpOp::kMatches: {
        if (l.kind != LiteralKind::kString)
          return ErrorAt(l.pos, "type mismatch: MATCHES requires a string literal");
        int err = 0;
        PCRE2_SIZE off = 0;
        pcre2_code* code =
            pcre2_compile(reinterpret_cast<PCRE2_SPTR>(l.bytes.data()), l.bytes.size(),
                          PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &off, nullptr);
        if (!code) {
          PCRE2_UCHAR buf[256];
          pcre2_get_error_message(err, buf, sizeof buf);
          return ErrorAt(l.pos, "invalid regular expression at offset " + std::to_string(off) +
                                    ": " + reinterpret_cast<const char*>(buf));
        }
        pcre2_code_free(code);
        break;
      }
      case CmpOp::kIsSubset:
      case CmpOp::kIsSuperset: {
        net::IpPrefix p;
        if (l.kind != LiteralKind::kString || !net::ParseIpPrefix(l.bytes, &p))
          return ErrorAt(l.pos, std::string("type mismatch: ") +
                                    (n->op == CmpOp::kIsSubset ? "ISSUBSET" : "ISSUPERSET") +
                                    " requires an IPv4 or IPv6 address or CIDR string");
        break;
      }
      default:
        break;
    }
    (void)op_pos;
    CTIHUB_RETURN_IF_ERROR(CheckHashes(*n));
    return n;
  }

  Status CheckHashes(const CompExpr& n) {
    if (n.op != CmpOp::kEq && n.op != CmpOp::kNe && n.op != CmpOp::kIn) return Status::Ok();
    const auto& st = n.path.steps;
    for (size_t k = 0; k + 1 < st.size(); ++k) {
      if (st[k].kind == PathStep::Kind::kKey && st[k].key == "hashes" &&
          st[k + 1].kind == PathStep::Kind::kKey && k + 2 == st.size()) {
        auto check = [&](const Literal& l) -> Status {
          if (l.kind != LiteralKind::kString) return Status::Ok();
          std::string why = CheckHash(st[k + 1].key, l.bytes);
          if (!why.empty()) return ErrorAt(l.pos, "hash value does not fit its algorithm: " + why);
          return Status::Ok();
        };
        if (n.op == CmpOp::kIn) {
          for (const auto& l : n.set) CTIHUB_RETURN_IF_ERROR(check(l));
        } else {
          CTIHUB_RETURN_IF_ERROR(check(n.literal));
        }
      }
    }
    return Status::Ok();
  }

  Status Path(ObjectPath* path) {
    const Token& t = Cur();
    if (t.kind != Tok::kIdent) return Expected("an object path such as file:name");
    path->type = t.text;
    ++p_;
    if (!Accept(Tok::kColon)) return Expected("':' after the object type");
    if (opt_.strict && !IsKnownType(path->type))
      out_->warnings.push_back("at position " + std::to_string(t.pos) + ": object type '" +
                               path->type +
                               "' is not defined by the STIX specification (custom object)");
    CTIHUB_RETURN_IF_ERROR(KeyStep(path, "a property name after ':'"));
    while (true) {
      if (Accept(Tok::kDot)) {
        CTIHUB_RETURN_IF_ERROR(KeyStep(path, "a property name after '.'"));
      } else if (Cur().kind == Tok::kLBrack) {
        ++p_;
        PathStep s;
        const Token& ix = Cur();
        if (ix.kind == Tok::kStar) {
          s.kind = PathStep::Kind::kStar;
          ++p_;
        } else if (ix.kind == Tok::kInt) {
          s.kind = PathStep::Kind::kIndex;
          errno = 0;
          s.index = std::strtoll(ix.text.c_str(), nullptr, 10);
          if (errno == ERANGE) return ErrorAt(ix.pos, "list index out of range");
          ++p_;
        } else {
          return Expected("a list index or '*'");
        }
        if (!Accept(Tok::kRBrack)) return Expected("']' after the list index");
        path->steps.push_back(std::move(s));
        if (path->steps.size() > 256)
          return LimitExceeded("pattern_path_too_long", "object path longer than 256 steps");
      } else {
        break;
      }
    }
    return Status::Ok();
  }

  Status KeyStep(ObjectPath* path, const char* what) {
    const Token& t = Cur();
    PathStep s;
    s.kind = PathStep::Kind::kKey;
    if (t.kind == Tok::kString) {
      s.key = t.text;
    } else if (t.kind == Tok::kIdent) {
      if (t.text.find('-') != std::string::npos)
        return ErrorAt(
            t.pos, "property name '" + t.text + "' contains '-': quote it, e.g. '" + t.text + "'");
      s.key = t.text;
    } else if (t.kind >= Tok::kAnd) {
      // Keywords are not identifiers in the grammar.
      return ErrorAt(t.pos, std::string("expected ") + what + ", found keyword " + TokName(t.kind) +
                                " (quote it)");
    } else {
      return Expected(what);
    }
    ++p_;
    path->steps.push_back(std::move(s));
    return Status::Ok();
  }

  Status ReadLiteral(Literal* l, bool allow_bool) {
    const Token& t = Cur();
    l->pos = t.pos;
    switch (t.kind) {
      case Tok::kString:
        l->kind = LiteralKind::kString;
        l->bytes = t.text;
        break;
      case Tok::kInt: {
        l->kind = LiteralKind::kInt;
        errno = 0;
        long long v = std::strtoll(t.text.c_str(), nullptr, 10);
        if (errno == ERANGE) return ErrorAt(t.pos, "integer literal out of range");
        l->i = v;
        break;
      }
      case Tok::kFloat:
        l->kind = LiteralKind::kFloat;
        l->d = std::strtod(t.text.c_str(), nullptr);
        if (!std::isfinite(l->d)) return ErrorAt(t.pos, "float literal out of range");
        break;
      case Tok::kTrue:
      case Tok::kFalse:
        if (!allow_bool) return ErrorAt(t.pos, "type mismatch: a boolean is not allowed here");
        l->kind = LiteralKind::kBool;
        l->b = t.kind == Tok::kTrue;
        break;
      case Tok::kBinary: {
        // Canonical base64 (RFC 4648 §3.5: whole padded groups, zero pad bits).
        auto r = Base64Decode(t.text);
        if (!r.ok())
          return ErrorAt(t.pos, "invalid binary literal b'" + t.text + "': not valid base64");
        l->kind = LiteralKind::kBinary;
        l->bytes = std::move(*r);
        break;
      }
      case Tok::kHex: {
        auto r = HexDecode(t.text);
        if (!r.ok())
          return ErrorAt(
              t.pos, "invalid hex literal h'" + t.text + "': needs an even number of hex digits");
        l->kind = LiteralKind::kBinary;
        l->bytes = std::move(*r);
        break;
      }
      case Tok::kTimestamp: {
        auto ts = ParseTimestampText(t.text, t.pos);
        if (!ts.ok()) return ts.status();
        l->kind = LiteralKind::kTimestamp;
        l->ts = *ts;
        break;
      }
      default:
        return Expected("a literal (string, number, boolean, b'...', h'...' or t'...')");
    }
    ++p_;
    return Status::Ok();
  }

  std::vector<Token> t_;
  size_t p_ = 0;
  const PatternOptions& opt_;
  ParsedPattern* out_;
  size_t nodes_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<ParsedPattern> ParsePattern(std::string_view text, const PatternOptions& options) {
  if (text.size() > kMaxPatternBytes)
    return LimitExceeded("pattern_too_long",
                         "pattern longer than " + std::to_string(kMaxPatternBytes) + " bytes");
  std::vector<Token> toks;
  Lexer lex(text, options.version);
  CTIHUB_RETURN_IF_ERROR(lex.Run(&toks));
  ParsedPattern out;
  Parser p(std::move(toks), options, &out);
  CTIHUB_ASSIGN_OR_RETURN(out.root, p.Run());
  return out;
}

Status ValidatePattern(std::string_view pattern, const PatternOptions& options) {
  auto r = ParsePattern(pattern, options);
  return r.status();
}

}  // namespace ctihub::pattern
