// Runs the data-driven validator cases of testdata/validate_cases.jsonl (one
// JSON case per line; '#' lines are comments). A case is
//   {"section": "2.5", "case": "what it shows", "expect": "valid"|"error"|"warning",
//    "path": "$.x", "message": "substring", <the input>}
// where the input is one of
//   "object": {...}                      the object as it is,
//   "sdo": "TYPE", "props": {...}        an SDO/SRO/meta object: type, spec_version,
//                                        id TYPE--<uuid4>, created, modified, then props,
//   "sco": "TYPE", "props": {...}        an SCO with its deterministic id (props may set "id"),
//   "bundle": {...}                      a bundle: the bundle's own report is checked.
// "valid": no error, no warning. "error": invalid, with an error at path whose
// message contains the substring. "warning": valid, a warning at path with the
// substring, and invalid under --strict.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "core/json.h"
#include "stix/bundle_check.h"
#include "stix/bundle_reader.h"
#include "stix/sco_id.h"
#include "stix/validate.h"

namespace ctihub::stix {
namespace {

constexpr std::string_view kUuid4 = "6ba7b810-9dad-41d1-80b4-00c04fd430c8";

std::string Members(json::Element props) {
  std::string text = json::CanonicalJson(props);
  return text.size() > 2 ? text.substr(1, text.size() - 2) : std::string();
}

std::string Str(json::Element e) {
  std::string_view s;
  return e.get_string().get(s) == simdjson::SUCCESS ? std::string(s) : std::string();
}

// The object text a case describes ("" for a bundle case).
std::string BuildObject(json::Object c) {
  json::Element e;
  if (!c["object"].get(e)) return json::CanonicalJson(e);
  json::Element props;
  std::string members;
  if (!c["props"].get(props)) members = Members(props);
  if (!c["sdo"].get(e)) {
    std::string type = Str(e);
    std::string text =
        R"({"type":")" + type + R"(","spec_version":"2.1","id":")" + type + "--" +
        std::string(kUuid4) +
        R"(","created":"2016-04-06T20:03:00.000Z","modified":"2016-04-06T20:03:48.000Z")";
    return text + (members.empty() ? "" : "," + members) + "}";
  }
  if (!c["sco"].get(e)) {
    std::string type = Str(e);
    std::string body = R"({"type":")" + type + R"(","spec_version":"2.1")" +
                       (members.empty() ? "" : "," + members) + "}";
    json::Element has_id;
    if (!props.is_null() && !props["id"].get(has_id)) return body;
    json::JsonParser parser;
    auto parsed = parser.Parse(body);
    if (!parsed.ok()) return body;
    auto id = DeterministicScoId(*parsed);
    return R"({"id":")" + (id.ok() ? *id : std::string()) + "\"," + body.substr(1);
  }
  return "";
}

// The report of a bundle case: the bundle's own issues after all its objects.
Report BundleReport(const std::string& text, bool strict) {
  BundleReader reader{std::string_view(text)};
  BundleCheck check;
  json::JsonParser parser;
  ValidateOptions options;
  options.strict = strict;
  for (;;) {
    auto next = reader.Next();
    if (!next.ok() || next->empty()) break;
    auto parsed = parser.Parse(*next);
    if (!parsed.ok()) continue;
    check.AddObject(*parsed);
  }
  return check.Finish(reader, options);
}

bool HasIssue(const std::vector<Issue>& issues, const std::string& path,
              const std::string& message) {
  for (const Issue& i : issues) {
    if (i.path == path && i.message.find(message) != std::string::npos) return true;
  }
  return false;
}

std::string Dump(const Report& r) {
  std::string s;
  for (const auto& i : r.errors) s += "  E " + i.path + ": " + i.message + "\n";
  for (const auto& i : r.warnings) s += "  W " + i.path + ": " + i.message + "\n";
  return s;
}

TEST(ValidateCasesTest, AllCases) {
  std::ifstream in(CTIHUB_STIX_TESTDATA "/validate_cases.jsonl");
  ASSERT_TRUE(in) << "cannot open " CTIHUB_STIX_TESTDATA "/validate_cases.jsonl";
  std::string line;
  int line_no = 0, cases = 0;
  json::JsonParser case_parser;
  json::JsonParser object_parser;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    auto parsed = case_parser.Parse(line);
    ASSERT_TRUE(parsed.ok()) << "line " << line_no << ": " << parsed.status().message();
    json::Object c = parsed->get_object().value_unsafe();
    json::Element e;
    std::string section = !c["section"].get(e) ? Str(e) : "";
    std::string name = !c["case"].get(e) ? Str(e) : "";
    std::string expect = !c["expect"].get(e) ? Str(e) : "";
    std::string path = !c["path"].get(e) ? Str(e) : "";
    std::string message = !c["message"].get(e) ? Str(e) : "";
    SCOPED_TRACE("line " + std::to_string(line_no) + " (section " + section + "): " + name);
    ASSERT_FALSE(section.empty()) << "every case names its section";
    ASSERT_TRUE(expect == "valid" || expect == "error" || expect == "warning") << expect;
    Report normal, strict;
    std::string text;
    if (!c["bundle"].get(e)) {
      text = json::CanonicalJson(e);
      normal = BundleReport(text, false);
      strict = BundleReport(text, true);
    } else {
      text = BuildObject(c);
      auto object = object_parser.Parse(text);
      ASSERT_TRUE(object.ok()) << text;
      normal = Validate(*object, {});
      ValidateOptions strict_options;
      strict_options.strict = true;
      strict = Validate(*object, strict_options);
    }
    ++cases;
    if (expect == "valid") {
      EXPECT_TRUE(normal.errors.empty() && normal.warnings.empty()) << text << "\n" << Dump(normal);
    } else if (expect == "error") {
      EXPECT_TRUE(HasIssue(normal.errors, path, message))
          << text << "\nwanted error " << path << ": " << message << "\ngot:\n"
          << Dump(normal);
      EXPECT_FALSE(normal.valid());
    } else {
      EXPECT_TRUE(HasIssue(normal.warnings, path, message))
          << text << "\nwanted warning " << path << ": " << message << "\ngot:\n"
          << Dump(normal);
      EXPECT_TRUE(normal.errors.empty()) << text << "\n" << Dump(normal);
      EXPECT_FALSE(strict.valid(true)) << "a warning is an error under --strict";
      EXPECT_TRUE(HasIssue(strict.errors, path, message))
          << "the warning is an error under --strict\n"
          << Dump(strict);
    }
  }
  EXPECT_GT(cases, 50);
}

}  // namespace
}  // namespace ctihub::stix
