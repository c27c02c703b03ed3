// JSON for ctihub: simdjson's DOM is the one in-memory JSON model (parse once,
// read many times, strings are views into the parser's buffer).
//
//  - JsonParser: a reusable parser with named limits (document size, nesting
//    depth), duplicate-key rejection and byte offsets in every error.
//    Not thread-safe: keep one per thread. Elements it returns stay valid until
//    the next Parse() on the same parser.
//  - JsonWriter: appends JSON text to a string (output, responses).
//  - AppendCanonical / CanonicalJson: RFC 8785 (JCS) serialisation.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ctihub::json {

using Element = simdjson::dom::element;
using Object = simdjson::dom::object;
using Array = simdjson::dom::array;
using Type = simdjson::dom::element_type;

struct ParseLimits {
  size_t max_bytes = 64u << 20;  // one document (one object of a streamed bundle)
  uint32_t max_depth = 64;       // STIX objects nest far less than this
  bool reject_duplicate_keys = true;
};

class JsonParser {
 public:
  explicit JsonParser(ParseLimits limits = {});

  // Parses one JSON text. Errors are InvalidArgument / LimitExceeded with
  // "at byte N: reason" in the message.
  Result<Element> Parse(std::string_view text);

  const ParseLimits& limits() const { return limits_; }

 private:
  ParseLimits limits_;
  simdjson::dom::parser parser_;
};

// Finds where and why a JSON text is malformed. Returns -1 if the scanner finds
// nothing wrong. Used to give byte offsets when simdjson rejects a text.
struct SyntaxError {
  int64_t offset = -1;
  std::string reason;
};
SyntaxError LocateSyntaxError(std::string_view text, uint32_t max_depth);

// Checks that no object under `root` repeats a key. Returns the first
// repeated key in `dup` when one is found.
bool FindDuplicateKey(Element root, std::string* dup);

// Appends `s` as a JSON string literal (JCS escaping: only ", \ and control
// characters are escaped; \b \f \n \r \t by name, others as \u00xx).
void AppendQuoted(std::string& out, std::string_view s);

// ECMAScript Number.prototype.toString of a double (what JCS requires).
// REQUIRES: finite value.
void AppendJsNumber(std::string& out, double v);

// RFC 8785 canonical form: object members sorted by UTF-16 code units, no
// white space, numbers as ECMAScript formats them.
void AppendCanonical(std::string& out, Element e);
std::string CanonicalJson(Element e);

// Sorts object keys the way JCS orders them (by UTF-16 code units).
bool Utf16Less(std::string_view a, std::string_view b);

// Minimal streaming writer. The caller is responsible for well-formedness;
// commas are inserted automatically.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& BeginObject() {
    Sep();
    out_ += '{';
    first_ = true;
    return *this;
  }
  JsonWriter& EndObject() {
    out_ += '}';
    first_ = false;
    return *this;
  }
  JsonWriter& BeginArray() {
    Sep();
    out_ += '[';
    first_ = true;
    return *this;
  }
  JsonWriter& EndArray() {
    out_ += ']';
    first_ = false;
    return *this;
  }
  JsonWriter& Key(std::string_view k) {
    Sep();
    AppendQuoted(out_, k);
    out_ += ':';
    first_ = true;
    return *this;
  }
  JsonWriter& String(std::string_view v) {
    Sep();
    AppendQuoted(out_, v);
    return *this;
  }
  JsonWriter& Int(int64_t v) {
    Sep();
    out_ += std::to_string(v);
    return *this;
  }
  JsonWriter& Double(double v) {
    Sep();
    AppendJsNumber(out_, v);
    return *this;
  }
  JsonWriter& Bool(bool v) {
    Sep();
    out_ += v ? "true" : "false";
    return *this;
  }
  JsonWriter& Null() {
    Sep();
    out_ += "null";
    return *this;
  }
  // Inserts already-serialised JSON text.
  JsonWriter& Raw(std::string_view json) {
    Sep();
    out_ += json;
    return *this;
  }
  JsonWriter& Value(Element e) {
    Sep();
    AppendCanonical(out_, e);
    return *this;
  }
  JsonWriter& StringOrNull(std::string_view v, bool present) {
    return present ? String(v) : Null();
  }

 private:
  void Sep() {
    if (!first_) out_ += ',';
    first_ = false;
  }
  std::string& out_;
  bool first_ = true;
};

// Short name of a DOM type for messages ("string", "object", ...).
std::string_view TypeName(Type t);

}  // namespace ctihub::json
