#include "stix/validate.h"

#include <gtest/gtest.h>

#include <string>

#include "core/json.h"
#include "stix/sco_id.h"

namespace ctihub::stix {
namespace {

constexpr std::string_view kU4 = "6ba7b810-9dad-41d1-80b4-00c04fd430c8";
constexpr std::string_view kIdentity = "identity--311b2d2d-f010-4473-83ec-1edf84858f4c";
constexpr std::string_view kTlpGreen = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
constexpr std::string_view kFile = "file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d";
constexpr std::string_view kSoftware = "software--a1827f6d-ca53-5605-9e93-4316cd22a00a";
constexpr std::string_view kIpv4 = "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd";
constexpr std::string_view kEmailAddr = "email-addr--2d77a846-6264-5d51-b586-e43822ea1ea3";
constexpr std::string_view kUserAccount = "user-account--0d5b424b-93b8-5cd8-ac36-306e1789d63c";

std::string Join(std::string_view a, std::string_view b) {
  if (b.empty()) return std::string(a);
  return std::string(a) + "," + std::string(b);
}

// An SDO/SRO/meta object with its common properties plus `extra` members.
std::string Sdo(std::string_view type, std::string_view extra) {
  std::string s = R"({"type":")" + std::string(type) + R"(","spec_version":"2.1","id":")" +
                  std::string(type) + "--" + std::string(kU4) +
                  R"(","created":"2016-04-06T20:03:00.000Z","modified":"2016-04-06T20:03:48.000Z")";
  return Join(s, extra) + "}";
}

// An SCO with its deterministic id.
std::string Sco(std::string_view type, std::string_view extra) {
  std::string body = R"({"type":")" + std::string(type) + R"(","spec_version":"2.1")";
  body = Join(body, extra) + "}";
  json::JsonParser parser;
  auto e = parser.Parse(body);
  EXPECT_TRUE(e.ok()) << body;
  if (!e.ok()) return body;
  std::string id = *DeterministicScoId(*e);
  return R"({"id":")" + id + "\"," + body.substr(1);
}

Report V(std::string_view text, ValidateOptions opts = {}) {
  static json::JsonParser parser;
  auto e = parser.Parse(text);
  EXPECT_TRUE(e.ok()) << e.status().ToString() << "\n" << text;
  if (!e.ok()) return {};
  return Validate(*e, opts);
}

std::string Dump(const Report& r) {
  std::string s;
  for (const auto& i : r.errors) s += "  E " + i.path + ": " + i.message + "\n";
  for (const auto& i : r.warnings) s += "  W " + i.path + ": " + i.message + "\n";
  return s;
}

bool Has(const std::vector<Issue>& v, std::string_view path, std::string_view msg) {
  for (const auto& i : v) {
    if (i.path == path && i.message.find(msg) != std::string::npos) return true;
  }
  return false;
}

#define EXPECT_CLEAN(text)                                                           \
  do {                                                                               \
    std::string t_ = (text);                                                         \
    Report r_ = V(t_);                                                               \
    EXPECT_TRUE(r_.errors.empty() && r_.warnings.empty()) << t_ << "\n" << Dump(r_); \
  } while (0)

#define EXPECT_ERROR(text, path, msg)                                   \
  do {                                                                  \
    std::string t_ = (text);                                            \
    Report r_ = V(t_);                                                  \
    EXPECT_TRUE(Has(r_.errors, path, msg))                              \
        << t_ << "\nwanted error " << path << ": " << msg << "\ngot:\n" \
        << Dump(r_);                                                    \
    EXPECT_FALSE(r_.valid());                                           \
  } while (0)

#define EXPECT_WARNING(text, path, msg)                                   \
  do {                                                                    \
    std::string t_ = (text);                                              \
    Report r_ = V(t_);                                                    \
    EXPECT_TRUE(Has(r_.warnings, path, msg))                              \
        << t_ << "\nwanted warning " << path << ": " << msg << "\ngot:\n" \
        << Dump(r_);                                                      \
    EXPECT_TRUE(r_.errors.empty()) << Dump(r_);                           \
    EXPECT_TRUE(r_.valid());                                              \
    EXPECT_FALSE(r_.valid(true));                                         \
  } while (0)

// --- valid examples of every type -------------------------------------------

TEST(ValidateTest, ValidSdos) {
  std::string refs = R"("object_refs":[")" + std::string(kIdentity) + R"("])";
  EXPECT_CLEAN(Sdo(
      "attack-pattern",
      R"("name":"Spear Phishing","kill_chain_phases":[{"kill_chain_name":"lockheed","phase_name":"delivery"}],
                      "external_references":[{"source_name":"capec","external_id":"CAPEC-163"}])"));
  EXPECT_CLEAN(Sdo(
      "campaign",
      R"("name":"Green Group","first_seen":"2016-01-01T00:00:00Z","last_seen":"2016-02-01T00:00:00Z","objective":"x")"));
  EXPECT_CLEAN(
      Sdo("course-of-action", R"("name":"Add TCP port 80 Filter Rule","description":"x")"));
  EXPECT_CLEAN(Sdo("grouping", R"("name":"g","context":"suspicious-activity",)" + refs));
  EXPECT_CLEAN(Sdo(
      "identity",
      R"("name":"ACME","identity_class":"organization","sectors":["technology"],"roles":["x"])"));
  EXPECT_CLEAN(
      Sdo("incident",
          R"("name":"Breach","kill_chain_phases":[{"kill_chain_name":"k","phase_name":"p"}])"));
  EXPECT_CLEAN(Sdo(
      "indicator",
      R"("name":"ip","description":"d","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '198.51.100.1']",
                      "pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z","valid_until":"2017-01-01T00:00:00Z")"));
  EXPECT_CLEAN(
      Sdo("infrastructure", R"("name":"C2","infrastructure_types":["command-and-control"])"));
  EXPECT_CLEAN(Sdo(
      "intrusion-set",
      R"("name":"APT","resource_level":"government","primary_motivation":"ideology","goals":["x"])"));
  EXPECT_CLEAN(Sdo("location", R"("region":"northern-europe")"));
  EXPECT_CLEAN(Sdo("location", R"("latitude":48.8566,"longitude":2.3522,"precision":1000.0)"));
  EXPECT_CLEAN(
      Sdo("malware", R"("name":"Cryptolocker","is_family":true,"malware_types":["ransomware"],
                                 "sample_refs":[")" +
                         std::string(kFile) + R"("],"implementation_languages":["c"])"));
  EXPECT_CLEAN(Sdo("malware-analysis", R"("product":"av","result":"malicious","host_vm_ref":")" +
                                           std::string(kSoftware) + R"(","analysis_sco_refs":[")" +
                                           std::string(kFile) + R"("])"));
  EXPECT_CLEAN(Sdo("note", R"("content":"text","authors":["a"],)" + refs));
  EXPECT_CLEAN(
      Sdo("observed-data",
          R"("first_observed":"2015-12-21T19:00:00Z","last_observed":"2015-12-21T19:00:00Z",
                                       "number_observed":50,"object_refs":[")" +
              std::string(kIpv4) + R"("])"));
  EXPECT_CLEAN(Sdo("opinion", R"("opinion":"strongly-disagree","explanation":"x",)" + refs));
  EXPECT_CLEAN(Sdo(
      "report",
      R"("name":"r","report_types":["campaign"],"published":"2016-01-20T17:00:00.000Z",)" + refs));
  EXPECT_CLEAN(
      Sdo("threat-actor",
          R"("name":"Evil Org","threat_actor_types":["crime-syndicate"],"roles":["director"],
                                      "sophistication":"expert","personal_motivations":["personal-gain"])"));
  EXPECT_CLEAN(Sdo("tool", R"("name":"VNC","tool_types":["remote-access"],"tool_version":"1")"));
  EXPECT_CLEAN(Sdo(
      "vulnerability",
      R"("name":"CVE-2016-1234","external_references":[{"source_name":"cve","external_id":"CVE-2016-1234"}])"));
}

TEST(ValidateTest, ValidSros) {
  EXPECT_CLEAN(Sdo("relationship", R"("relationship_type":"indicates","source_ref":"indicator--)" +
                                       std::string(kU4) + R"(","target_ref":"malware--)" +
                                       std::string(kU4) + "\""));
  EXPECT_CLEAN(Sdo("relationship", R"("relationship_type":"related-to","source_ref":"indicator--)" +
                                       std::string(kU4) + R"(","target_ref":")" +
                                       std::string(kIpv4) +
                                       R"(","start_time":"2016-01-01T00:00:00Z")"));
  EXPECT_CLEAN(Sdo("sighting", R"("sighting_of_ref":"indicator--)" + std::string(kU4) +
                                   R"(","count":3,"summary":false,
                                   "where_sighted_refs":[")" +
                                   std::string(kIdentity) + R"("],
                                   "observed_data_refs":["observed-data--)" +
                                   std::string(kU4) + R"("],
                                   "first_seen":"2016-01-01T00:00:00Z","last_seen":"2016-01-01T00:00:00Z")"));
}

TEST(ValidateTest, ValidMetaObjects) {
  EXPECT_CLEAN(
      R"({"type":"marking-definition","spec_version":"2.1","id":")" + std::string(kTlpGreen) +
      R"(","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:GREEN","definition":{"tlp":"green"}})");
  EXPECT_CLEAN(
      R"({"type":"marking-definition","spec_version":"2.1","id":"marking-definition--)" +
      std::string(kU4) +
      R"(","created":"2017-01-20T00:00:00.000Z","definition_type":"statement","definition":{"statement":"Copyright 2019"}})");
  EXPECT_CLEAN(
      R"({"type":"marking-definition","spec_version":"2.1","id":"marking-definition--)" +
      std::string(kU4) +
      R"(","created":"2017-01-20T00:00:00.000Z","name":"TLP:AMBER+STRICT","extensions":{"extension-definition--)" +
      std::string(kU4) + R"(":{"extension_type":"property-extension","tlp_2_0":"amber+strict"}}})");
  EXPECT_CLEAN(Sdo("language-content", R"("object_ref":"campaign--)" + std::string(kU4) +
                                           R"(","object_modified":"2017-02-08T21:31:22.007Z",
                                           "contents":{"de":{"name":"Bank Angriff 1"},"fr":{"name":"Attaque"}})"));
  EXPECT_CLEAN(Sdo(
      "extension-definition",
      R"("created_by_ref":")" + std::string(kIdentity) +
          R"(","name":"ext","description":"d","schema":"https://example.com/s.json","version":"1.0",
                                               "extension_types":["toplevel-property-extension"],"extension_properties":["toxicity"])"));
}

TEST(ValidateTest, ValidScos) {
  EXPECT_CLEAN(
      Sco("artifact", R"("mime_type":"image/jpeg","payload_bin":"VBORw0KGgoAAAANSUhEUgAAADI==")"));
  EXPECT_CLEAN(Sco(
      "artifact",
      R"("url":"https://x.example/a","hashes":{"SHA-256":"6db12788c37247f2316052e142f42f4b259d6561751e5f401a1ae2a6df9c674b"})"));
  EXPECT_CLEAN(
      Sco("autonomous-system", R"("number":15139,"name":"Slime Industries","rir":"ARIN")"));
  EXPECT_CLEAN(Sco("directory", R"("path":"C:\\Windows\\System32","contains_refs":[")" +
                                    std::string(kFile) + R"("])"));
  EXPECT_CLEAN(Sco("domain-name", R"("value":"example.com","resolves_to_refs":[")" +
                                      std::string(kIpv4) + R"("])"));
  EXPECT_CLEAN(
      Sco("email-addr", R"("value":"john@example.com","display_name":"John","belongs_to_ref":")" +
                            std::string(kUserAccount) + R"(")"));
  EXPECT_CLEAN(Sco(
      "email-message",
      R"("is_multipart":true,"from_ref":")" + std::string(kEmailAddr) +
          R"(","date":"1997-11-21T15:55:06.000Z","subject":"s","additional_header_fields":{"Reply-To":["a"]},
                                        "body_multipart":[{"content_type":"text/plain","body":"hi"},
                                                          {"body_raw_ref":")" +
          std::string(kFile) + R"("}])"));
  EXPECT_CLEAN(Sco(
      "file", R"("name":"a.exe","size":25536,"hashes":{"MD5":"d41d8cd98f00b204e9800998ecf8427e"},
                              "magic_number_hex":"4D5A","extensions":{"windows-pebinary-ext":{"pe_type":"exe","number_of_sections":4,
                              "optional_header":{"magic_hex":"010b","size_of_code":100},"sections":[{"name":".text","entropy":7.1}]},
                              "ntfs-ext":{"alternate_data_streams":[{"name":"s","size":1}]},
                              "archive-ext":{"contains_refs":[")" +
                  std::string(kFile) + R"("]}})"));
  EXPECT_CLEAN(Sco("ipv4-addr", R"("value":"198.51.100.0/24")"));
  EXPECT_CLEAN(Sco("ipv6-addr", R"("value":"2001:0db8:85a3:0000:0000:8a2e:0370:7334")"));
  EXPECT_CLEAN(Sco("mac-addr", R"("value":"d2:fb:49:24:37:18")"));
  EXPECT_CLEAN(Sco("mutex", R"("name":"__CLEANSWEEP__")"));
  EXPECT_CLEAN(Sco("network-traffic", R"("src_ref":")" + std::string(kIpv4) +
                                          R"(","dst_port":443,"protocols":["ipv4","tcp"],
                                          "extensions":{"tcp-ext":{"src_flags_hex":"00000002"},"socket-ext":{"address_family":"AF_INET","socket_type":"SOCK_STREAM"},
                                          "http-request-ext":{"request_method":"get","request_value":"/"}})"));
  EXPECT_CLEAN(
      Sco("process", R"("pid":1221,"command_line":"x","image_ref":")" + std::string(kFile) +
                         R"(","extensions":{"windows-process-ext":{"integrity_level":"high"},
                                  "windows-service-ext":{"service_name":"s","start_type":"SERVICE_AUTO_START","service_status":"SERVICE_RUNNING"}})"));
  EXPECT_CLEAN(Sco(
      "software",
      R"("name":"Word","cpe":"cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*","vendor":"Microsoft")"));
  EXPECT_CLEAN(Sco("url", R"("value":"https://example.com/research/index.html")"));
  EXPECT_CLEAN(Sco("user-account", R"("user_id":"1001","account_login":"jdoe","account_type":"unix",
                                       "extensions":{"unix-account-ext":{"gid":1001,"groups":["wheel"]}})"));
  EXPECT_CLEAN(Sco(
      "windows-registry-key",
      R"("key":"hkey_local_machine\\system","values":[{"name":"Foo","data":"qwerty","data_type":"REG_SZ"}])"));
  EXPECT_CLEAN(
      Sco("x509-certificate", R"("issuer":"C=ZA, ST=Western Cape","serial_number":"02:08:87",
                                           "validity_not_before":"2016-03-12T12:00:00Z","validity_not_after":"2016-08-21T12:00:00Z",
                                           "x509_v3_extensions":{"basic_constraints":"critical,CA:TRUE"})"));
}

// --- common properties -------------------------------------------------------

TEST(ValidateTest, TypeAndId) {
  EXPECT_ERROR(R"({"id":"x"})", "$.type", "required property 'type' is missing");
  EXPECT_ERROR(R"({"type":"Bad_Type","spec_version":"2.1"})", "$.type", "invalid type");
  EXPECT_ERROR(R"({"type":"xy","spec_version":"2.1"})", "$.type", "invalid type");
  std::string s = Sdo("tool", R"("name":"t")");
  EXPECT_ERROR(std::string(s).replace(s.find("tool--"), 6, "malware--"), "$.id",
               "does not match type");
  EXPECT_ERROR(std::string(s).replace(s.find(kU4), 36, "not-a-uuid"), "$.id",
               "must be 'type--UUID'");
  // Wrong RFC 4122 variant.
  EXPECT_ERROR(std::string(s).replace(s.find(kU4), 36, "6ba7b810-9dad-41d1-c0b4-00c04fd430c8"),
               "$.id", "RFC 4122");
  // UUIDv1: only a warning for an SDO.
  EXPECT_WARNING(std::string(s).replace(s.find(kU4), 36, "6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
                 "$.id", "version 4");
  std::string no_id =
      R"({"type":"tool","spec_version":"2.1","created":"2016-04-06T20:03:00.000Z","modified":"2016-04-06T20:03:00.000Z","name":"t"})";
  EXPECT_ERROR(no_id, "$.id", "required property 'id' is missing");
  Report r = V(s);
  EXPECT_EQ(r.id, "tool--" + std::string(kU4));
  EXPECT_EQ(r.type, "tool");
  EXPECT_TRUE(r.has_id && r.has_type);
}

TEST(ValidateTest, ScoIdShouldBeDeterministic) {
  EXPECT_WARNING(R"({"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--)" +
                     std::string(kU4) + R"(","value":"198.51.100.3"})",
                 "$.id", "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4");
}

TEST(ValidateTest, SpecVersion) {
  std::string s = Sdo("tool", R"("name":"t")");
  EXPECT_ERROR(std::string(s).replace(s.find("\"2.1\""), 5, "\"2.2\""), "$.spec_version",
               "must be \"2.1\"");
}

TEST(ValidateTest, Stix20IsRecognised) {
  std::string s =
      R"({"type":"malware","id":"malware--)" + std::string(kU4) +
      R"(","created":"2016-04-06T20:03:00.000Z","modified":"2016-04-06T20:03:00.000Z","name":"x","labels":["trojan"]})";
  Report r = V(s);
  EXPECT_TRUE(r.is_stix20);
  EXPECT_TRUE(Has(r.errors, "$.spec_version", "STIX 2.0")) << Dump(r);
  std::string explicit20 = Sdo("tool", R"("name":"t")");
  explicit20.replace(explicit20.find("\"2.1\""), 5, "\"2.0\"");
  EXPECT_TRUE(V(explicit20).is_stix20);
  // A 2.1-looking object in a 2.0 bundle.
  ValidateOptions in20;
  in20.bundle_spec_version = "2.0";
  EXPECT_TRUE(V(Sdo("tool", R"("name":"t")"), in20).is_stix20);
  EXPECT_FALSE(V(Sdo("tool", R"("name":"t")")).is_stix20);
  // An SCO without spec_version is fine in 2.1.
  Report sco = V(
      R"({"type":"url","id":"url--47c3cf9a-5027-5bf0-997a-017c7edc7c55","value":"https://example.com/research/index.html"})");
  EXPECT_FALSE(sco.is_stix20);
  EXPECT_TRUE(sco.valid(true)) << Dump(sco);
}

TEST(ValidateTest, CreatedModified) {
  std::string s = Sdo("tool", R"("name":"t")");
  std::string later = s;
  later.replace(later.find("2016-04-06T20:03:00.000Z"), 24, "2017-04-06T20:03:00.000Z");
  EXPECT_ERROR(later, "$.modified", "later than or equal to created");
  std::string coarse = s;
  coarse.replace(coarse.find("2016-04-06T20:03:00.000Z"), 24, "2016-04-06T20:03:00Z");
  EXPECT_ERROR(coarse, "$.created", "millisecond");
  std::string bad = s;
  bad.replace(bad.find("2016-04-06T20:03:48.000Z"), 24, "2016-02-30T20:03:48.000Z");
  EXPECT_ERROR(bad, "$.modified", "invalid timestamp");
  std::string tz = s;
  tz.replace(tz.find("2016-04-06T20:03:48.000Z"), 24, "2016-04-06T20:03:48.000+01:00");
  EXPECT_ERROR(tz, "$.modified", "invalid timestamp");
}

TEST(ValidateTest, CommonPropertyTypes) {
  EXPECT_ERROR(Sdo("tool", R"("name":"t","created_by_ref":"tool--)" + std::string(kU4) + "\""),
               "$.created_by_ref", "must reference identity");
  EXPECT_ERROR(Sdo("tool", R"("name":"t","revoked":"no")"), "$.revoked", "must be a boolean");
  EXPECT_ERROR(Sdo("tool", R"("name":"t","labels":[1])"), "$.labels[0]", "must be a string");
  EXPECT_ERROR(Sdo("tool", R"("name":"t","labels":[])"), "$.labels", "must not be empty");
  EXPECT_ERROR(Sdo("tool", R"("name":"t","confidence":101)"), "$.confidence", "between 0 and 100");
  EXPECT_ERROR(Sdo("tool", R"("name":"t","confidence":5.5)"), "$.confidence", "must be an integer");
  EXPECT_ERROR(Sdo("tool", R"("name":"t","confidence":123456789012345678901234567890)"),
               "$.confidence", "must be an integer");
  EXPECT_ERROR(Sdo("tool", R"("name":"t","lang":"english language")"), "$.lang", "RFC 5646");
  EXPECT_CLEAN(
      Sdo("tool", R"("name":"t","lang":"en-US","confidence":0,"revoked":true,"labels":["a"])"));
  EXPECT_ERROR(
      Sdo("tool", R"("name":"t","object_marking_refs":["identity--)" + std::string(kU4) + "\"]"),
      "$.object_marking_refs[0]", "must reference marking-definition");
  EXPECT_ERROR(Sdo("tool", R"("name":1)"), "$.name", "must be a string");
  EXPECT_ERROR(Sdo("tool", ""), "$.name", "required property 'name' is missing");
}

TEST(ValidateTest, ExternalReferences) {
  EXPECT_WARNING(
      Sdo("tool",
          R"("name":"t","kill_chain_phases":[{"kill_chain_name":"Lockheed Martin","phase_name":"x"}])"),
      "$.kill_chain_phases[0].kill_chain_name", "lower case");
  EXPECT_ERROR(Sdo("tool", R"("name":"t","kill_chain_phases":[{"kill_chain_name":"k"}])"),
               "$.kill_chain_phases[0].phase_name", "required");
  EXPECT_ERROR(Sdo("tool", R"("name":"t","external_references":[{"url":"https://x"}])"),
               "$.external_references[0].source_name", "required property");
  EXPECT_ERROR(Sdo("tool", R"("name":"t","external_references":[{"source_name":"x"}])"),
               "$.external_references[0]",
               "must have at least one of description, url or external_id");
  EXPECT_ERROR(
      Sdo("tool",
          R"("name":"t","external_references":[{"source_name":"x","url":"u","hashes":{"SHA-256":"abc"}}])"),
      "$.external_references[0].hashes.SHA-256", "64 hex characters");
  EXPECT_ERROR(Sdo("tool", R"("name":"t","external_references":[{"source_name":"cve","url":"u"}])"),
               "$.external_references[0].external_id", "must have external_id");
}

TEST(ValidateTest, GranularMarkings) {
  std::string ok = R"("name":"t","description":"d","aliases":["a","b"],"granular_markings":[
      {"marking_ref":")" +
                   std::string(kTlpGreen) + R"(","selectors":["description","aliases.[1]"]},
      {"lang":"en","selectors":["name"]}])";
  EXPECT_CLEAN(Sdo("tool", ok));
  EXPECT_ERROR(Sdo("tool", R"("name":"t","granular_markings":[{"marking_ref":")" +
                               std::string(kTlpGreen) + R"(","selectors":["description"]}])"),
               "$.granular_markings[0].selectors[0]", "does not resolve");
  EXPECT_ERROR(Sdo("tool", R"("name":"t","aliases":["a"],"granular_markings":[{"marking_ref":")" +
                               std::string(kTlpGreen) + R"(","selectors":["aliases.[3]"]}])"),
               "$.granular_markings[0].selectors[0]", "does not resolve");
  EXPECT_ERROR(Sdo("tool", R"("name":"t","granular_markings":[{"marking_ref":")" +
                               std::string(kTlpGreen) + R"(","lang":"en","selectors":["name"]}])"),
               "$.granular_markings[0]", "exactly one of marking_ref and lang");
  EXPECT_ERROR(Sdo("tool", R"("name":"t","granular_markings":[{"selectors":["name"]}])"),
               "$.granular_markings[0]", "exactly one of marking_ref and lang");
  EXPECT_ERROR(Sdo("tool", R"("name":"t","granular_markings":[{"lang":"en"}])"),
               "$.granular_markings[0].selectors", "required");
}

TEST(ValidateTest, Extensions) {
  EXPECT_WARNING(Sdo("tool", R"("name":"t","extensions":{"my-ext":{"a":1}})"),
                 "$.extensions.my-ext", "deprecated custom extension");
  EXPECT_ERROR(Sdo("tool", R"("name":"t","extensions":{"My Ext":{"a":1}})"),
               "$.extensions['My Ext']", "extension-definition id or a predefined extension");
  EXPECT_ERROR(
      Sdo("tool",
          R"("name":"t","extensions":{"extension-definition--bad":{"extension_type":"property-extension"}})"),
      "$.extensions.extension-definition--bad", "invalid identifier");
  EXPECT_ERROR(Sdo("tool", R"("name":"t","extensions":{"extension-definition--)" +
                               std::string(kU4) + R"(":{"extension_type":"new-thing"}})"),
               "$.extensions.extension-definition--" + std::string(kU4) + ".extension_type",
               "closed vocabulary");
  EXPECT_ERROR(
      Sco("file", R"("name":"a","extensions":{"windows-pebinary-ext":{"number_of_sections":-1}})"),
      "$.extensions.windows-pebinary-ext.pe_type", "required");
  EXPECT_ERROR(
      Sco("file",
          R"("name":"a","extensions":{"windows-pebinary-ext":{"pe_type":"exe","number_of_sections":-1}})"),
      "$.extensions.windows-pebinary-ext.number_of_sections", "between 0");
  EXPECT_ERROR(
      Sco("network-traffic",
          R"("src_ref":")" + std::string(kIpv4) +
              R"(","protocols":["tcp"],"extensions":{"socket-ext":{"address_family":"AF_FOO"}})"),
      "$.extensions.socket-ext.address_family", "closed vocabulary");
  EXPECT_ERROR(Sco("network-traffic", R"("src_ref":")" + std::string(kIpv4) +
                                          R"(","protocols":["tcp"],"extensions":{"tcp-ext":{}})"),
               "$.extensions.tcp-ext", "src_flags_hex or dst_flags_hex");
  // A predefined extension of another type: a (deprecated) custom extension here.
  EXPECT_WARNING(
      Sco("url", R"("value":"http://a","extensions":{"tcp-ext":{"src_flags_hex":"02"}})"),
      "$.extensions.tcp-ext", "predefined extension of 'url'");
}

TEST(ValidateTest, CustomProperties) {
  EXPECT_CLEAN(Sdo("tool", R"("name":"t","x_acme_score":3)"));
  EXPECT_WARNING(Sdo("tool", R"("name":"t","acme_score":3)"), "$.acme_score",
                 "SHOULD start with 'x_'");
  EXPECT_ERROR(Sdo("tool", R"("name":"t","X-Acme":3)"), "$.X-Acme", "starting with a letter a-z");
  EXPECT_ERROR(Sdo("tool", R"("name":"t","ab":3)"), "$.ab", "at least 3 characters");
  EXPECT_ERROR(Sdo("tool", R"("name":"t","severity":"high")"), "$.severity", "reserved");
  // Custom object types: their own property names follow the same rules, without the "x_" prefix.
  EXPECT_CLEAN(Sdo("x-acme-thing", R"("anything":[1,2],"more":true)"));
  EXPECT_ERROR(Sdo("x-acme-thing", R"("anything":[1,2],"More":true)"), "$.More",
               "starting with a letter a-z");
  // A custom type without created/modified is a custom SCO: spec_version optional.
  Report sco =
      V(R"({"type":"x-acme-obs","id":"x-acme-obs--)" + std::string(kU4) + R"(","value":"v"})");
  EXPECT_FALSE(sco.is_stix20);
  EXPECT_TRUE(sco.valid(true)) << Dump(sco);
  EXPECT_ERROR(Sdo("x-acme-thing", R"("created_by_ref":"tool--)" + std::string(kU4) + "\""),
               "$.created_by_ref", "identity");
}

TEST(ValidateTest, Vocabularies) {
  EXPECT_WARNING(Sdo("tool", R"("name":"t","tool_types":["hammer"])"), "$.tool_types[0]",
                 "open vocabulary tool-type-ov");
  EXPECT_ERROR(
      Sdo("opinion", R"("opinion":"meh","object_refs":[")" + std::string(kIdentity) + R"("])"),
      "$.opinion", "closed vocabulary opinion-enum");
  EXPECT_ERROR(
      Sco("process", R"("pid":1,"extensions":{"windows-process-ext":{"integrity_level":"max"}})"),
      "$.extensions.windows-process-ext.integrity_level", "closed vocabulary");
  EXPECT_ERROR(
      Sco("windows-registry-key", R"("key":"k","values":[{"name":"a","data_type":"REG_FOO"}])"),
      "$.values[0].data_type", "closed vocabulary");
  EXPECT_ERROR(Sco("artifact", R"("payload_bin":"AAAA","encryption_algorithm":"rot13")"),
               "$.encryption_algorithm", "closed vocabulary");
  EXPECT_WARNING(Sco("file", R"("name":"a","hashes":{"FOO-HASH":"x"})"), "$.hashes.FOO-HASH",
                 "hash-algorithm-ov");
}

// --- type-specific rules -----------------------------------------------------

TEST(ValidateTest, SdoRules) {
  EXPECT_ERROR(
      Sdo("indicator",
          R"("pattern":"[a:b = 'c']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z",
                                    "valid_until":"2016-01-01T00:00:00Z")"),
      "$.valid_until", "later than valid_from");
  EXPECT_ERROR(Sdo("indicator", R"("pattern":"x","valid_from":"2016-01-01T00:00:00Z")"),
               "$.pattern_type", "required");
  EXPECT_ERROR(
      Sdo("campaign",
          R"("name":"c","first_seen":"2016-02-01T00:00:00Z","last_seen":"2016-01-01T00:00:00Z")"),
      "$.last_seen", "later than or equal to first_seen");
  EXPECT_ERROR(Sdo("location", R"("latitude":48.8)"), "$",
               "latitude and longitude must be given together");
  EXPECT_ERROR(Sdo("location", R"("latitude":91,"longitude":0)"), "$.latitude",
               "between -90 and 90");
  EXPECT_ERROR(Sdo("location", R"("name":"x")"), "$", "region, country");
  EXPECT_ERROR(Sdo("malware", R"("is_family":true)"), "$.name", "must have a name");
  EXPECT_ERROR(Sdo("malware", R"("name":"x")"), "$.is_family", "required");
  EXPECT_ERROR(Sdo("malware", R"("name":"x","is_family":false,"sample_refs":[")" +
                                  std::string(kIpv4) + R"("])"),
               "$.sample_refs[0]", "must reference file or artifact");
  EXPECT_ERROR(Sdo("malware-analysis", R"("product":"av")"), "$", "result or analysis_sco_refs");
  EXPECT_ERROR(
      Sdo("observed-data",
          R"("first_observed":"2015-12-21T19:00:00Z","last_observed":"2015-12-21T19:00:00Z",
                                        "number_observed":0,"object_refs":[")" +
              std::string(kIpv4) + R"("])"),
      "$.number_observed", "between 1 and 999999999");
  EXPECT_ERROR(
      Sdo("observed-data",
          R"("first_observed":"2015-12-21T19:00:00Z","last_observed":"2015-12-21T19:00:00Z",
                                        "number_observed":1,"object_refs":["tool--)" +
              std::string(kU4) + R"("])"),
      "$.object_refs[0]", "an SCO or SRO");
  EXPECT_ERROR(
      Sdo("observed-data",
          R"("first_observed":"2015-12-21T19:00:00Z","last_observed":"2015-12-21T19:00:00Z",
                                        "number_observed":1)"),
      "$", "exactly one of objects");
  EXPECT_ERROR(
      Sdo("report", R"("name":"r","published":"2016-01-20T17:00:00.000Z","object_refs":[])"),
      "$.object_refs", "must not be empty");
  EXPECT_ERROR(Sdo("grouping", R"("object_refs":[")" + std::string(kIdentity) + R"("])"),
               "$.context", "required");
  EXPECT_ERROR(Sdo("course-of-action", R"("name":"c","action_type":"x")"), "$.action_type",
               "reserved");
  EXPECT_ERROR(Sdo("extension-definition",
                   R"("name":"e","schema":"s","version":"1","extension_types":["new-sdo"])"),
               "$.created_by_ref", "required");
  EXPECT_WARNING(
      Sdo("extension-definition",
          R"("created_by_ref":")" + std::string(kIdentity) +
              R"(","name":"e","description":"d","schema":"s","version":"1","extension_types":["toplevel-property-extension"])"),
      "$.extension_properties", "SHOULD list its extension_properties");
  EXPECT_ERROR(Sdo("language-content", R"("object_ref":"campaign--)" + std::string(kU4) +
                                           R"(","contents":{"not a tag":{}})"),
               "$.contents['not a tag']", "RFC 5646");
}

TEST(ValidateTest, SroRules) {
  std::string ind = "indicator--" + std::string(kU4);
  EXPECT_ERROR(Sdo("relationship", R"("relationship_type":"Indicates!","source_ref":")" + ind +
                                       R"(","target_ref":")" + ind + "\""),
               "$.relationship_type", "a-z, 0-9");
  EXPECT_ERROR(
      Sdo("relationship", R"("relationship_type":"x","source_ref":")" + ind +
                              R"(","target_ref":"marking-definition--)" + std::string(kU4) + "\""),
      "$.target_ref", "an SDO or SCO");
  EXPECT_ERROR(Sdo("relationship", R"("relationship_type":"x","source_ref":")" + ind + "\""),
               "$.target_ref", "required");
  EXPECT_ERROR(
      Sdo("relationship",
          R"("relationship_type":"x","source_ref":")" + ind + R"(","target_ref":")" + ind +
              R"(","start_time":"2016-01-02T00:00:00Z","stop_time":"2016-01-01T00:00:00Z")"),
      "$.stop_time", "later than start_time");
  EXPECT_ERROR(Sdo("sighting", R"("sighting_of_ref":")" + std::string(kIpv4) + "\""),
               "$.sighting_of_ref", "an SDO");
  EXPECT_ERROR(Sdo("sighting",
                   R"("sighting_of_ref":")" + ind + R"(","where_sighted_refs":[")" + ind + R"("])"),
               "$.where_sighted_refs[0]", "identity or location");
  EXPECT_ERROR(Sdo("sighting", R"("sighting_of_ref":")" + ind + R"(","count":1000000000)"),
               "$.count", "between 0");
}

TEST(ValidateTest, MarkingDefinitionRules) {
  std::string base =
      R"({"type":"marking-definition","spec_version":"2.1","id":"marking-definition--)" +
      std::string(kU4) + R"(","created":"2017-01-20T00:00:00.000Z")";
  EXPECT_ERROR(base + R"(,"definition_type":"tlp","definition":{"tlp":"green"}})", "$.id",
               "predefined id");
  EXPECT_ERROR(base + R"(,"definition_type":"tlp","definition":{"tlp":"purple"}})",
               "$.definition.tlp", "white, green, amber or red");
  EXPECT_ERROR(base + R"(,"definition_type":"statement","definition":{}})",
               "$.definition.statement", "statement");
  EXPECT_ERROR(base + R"(,"definition_type":"statement"})", "$", "given together");
  EXPECT_WARNING(base + R"(,"definition_type":"color","definition":{"x":"y"}})",
                 "$.definition_type", "not in the open vocabulary marking-definition-type");
  EXPECT_ERROR(base + "}", "$", "definition_type and definition, or an extension");
}

TEST(ValidateTest, ScoRules) {
  EXPECT_ERROR(Sco("file", R"("size":3)"), "$", "hashes or name");
  EXPECT_ERROR(Sco("file", R"("name":"a","hashes":{"MD5":"xyz"})"), "$.hashes.MD5",
               "32 hex characters");
  EXPECT_ERROR(Sco("file", R"("name":"a","hashes":{})"), "$.hashes", "at least one entry");
  EXPECT_ERROR(Sco("file", R"("name":"a","magic_number_hex":"4D5")"), "$.magic_number_hex",
               "even number");
  EXPECT_ERROR(Sco("file", R"("name":"a","parent_directory_ref":")" + std::string(kFile) + "\""),
               "$.parent_directory_ref", "must reference directory");
  EXPECT_ERROR(Sco("artifact", R"("payload_bin":"%%%")"), "$.payload_bin", "base64");
  EXPECT_ERROR(Sco("artifact", R"("payload_bin":"AAAA","url":"http://x")"), "$",
               "both payload_bin and url");
  EXPECT_ERROR(Sco("artifact", R"("url":"http://x")"), "$.hashes", "must have hashes");
  EXPECT_ERROR(Sco("email-message", R"("is_multipart":false,"body_multipart":[{"body":"x"}])"),
               "$.body_multipart", "must not be present");
  EXPECT_ERROR(Sco("email-message",
                   R"("is_multipart":true,"body_multipart":[{"content_type":"text/plain"}])"),
               "$.body_multipart[0]", "exactly one of body and body_raw_ref");
  EXPECT_ERROR(Sco("email-message", R"("subject":"x")"), "$.is_multipart", "required");
  EXPECT_ERROR(Sco("ipv4-addr", R"("value":"300.1.1.1")"), "$.value", "not an IPv4");
  EXPECT_ERROR(Sco("ipv4-addr", R"("value":"10.0.0.0/33")"), "$.value", "not an IPv4");
  EXPECT_ERROR(Sco("ipv6-addr", R"("value":"example.com")"), "$.value", "not an IPv6");
  EXPECT_ERROR(Sco("mac-addr", R"("value":"D2-FB-49-24-37-18")"), "$.value", "colon-delimited");
  EXPECT_ERROR(Sco("network-traffic", R"("protocols":["tcp"])"), "$", "src_ref or dst_ref");
  EXPECT_ERROR(Sco("network-traffic", R"("src_ref":")" + std::string(kIpv4) +
                                          R"(","protocols":["tcp"],"src_port":70000)"),
               "$.src_port", "between 0 and 65535");
  EXPECT_ERROR(Sco("network-traffic",
                   R"("src_ref":")" + std::string(kIpv4) +
                       R"(","protocols":["tcp"],"is_active":true,"end":"2016-01-01T00:00:00Z")"),
               "$.end", "is_active");
  EXPECT_ERROR(
      Sco("network-traffic", R"("src_ref":")" + std::string(kFile) + R"(","protocols":["tcp"])"),
      "$.src_ref", "must reference");
  EXPECT_ERROR(Sco("process", ""), "$", "at least one property");
  EXPECT_ERROR(Sco("autonomous-system", R"("number":"AS1")"), "$.number", "must be an integer");
  EXPECT_ERROR(
      Sco("domain-name", R"("value":"a.com","resolves_to_refs":[")" + std::string(kFile) + R"("])"),
      "$.resolves_to_refs[0]", "must reference");
  EXPECT_ERROR(Sco("url", ""), "$.value", "required");
  EXPECT_ERROR(Sco("user-account", R"("user_id":"1","is_privileged":"yes")"), "$.is_privileged",
               "boolean");
  EXPECT_ERROR(
      Sco("x509-certificate", R"("serial_number":"1","validity_not_before":"2016-03-12T12:00:00Z",
                                           "validity_not_after":"2015-03-12T12:00:00Z")"),
      "$.validity_not_after", "later than or equal to validity_not_before");
  EXPECT_ERROR(Sco("software", R"("name":"x","languages":"en")"), "$.languages", "list of strings");
}

// Found by stix_parse_fuzz: a long digit run in an octet overflowed an int.
TEST(ValidateTest, RegressionIpv4LongOctetOverflow) {
  EXPECT_ERROR(Sco("ipv4-addr", R"("value":"2998915470000.1.1.1")"), "$.value", "not an IPv4");
  EXPECT_ERROR(Sco("ipv4-addr", R"("value":"1.1.1.1/99999999999")"), "$.value", "not an IPv4");
}

TEST(ValidateTest, NonObjectAndBundle) {
  Report r = V("[1,2]");
  EXPECT_FALSE(r.valid());
  EXPECT_TRUE(Has(r.errors, "$", "must be a JSON object")) << Dump(r);
  EXPECT_ERROR(R"({"type":"bundle","id":"bundle--)" + std::string(kU4) + R"(","objects":[]})",
               "$.type", "bundles may not nest");
}

TEST(ValidateTest, StrictTurnsWarningsIntoErrors) {
  ValidateOptions strict;
  strict.strict = true;
  Report r = V(Sdo("tool", R"("name":"t","tool_types":["hammer"])"), strict);
  EXPECT_FALSE(r.valid(true));
  EXPECT_TRUE(Has(r.errors, "$.tool_types[0]", "(strict)")) << Dump(r);
}

TEST(ValidateTest, IsScoType) {
  for (std::string_view t :
       {"artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message",
        "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process",
        "software", "url", "user-account", "windows-registry-key", "x509-certificate"}) {
    EXPECT_TRUE(IsScoType(t)) << t;
  }
  EXPECT_FALSE(IsScoType("indicator"));
  EXPECT_FALSE(IsScoType("x-custom"));
}

TEST(ValidateTest, PathsQuoteOddKeys) {
  EXPECT_WARNING(Sco("file", R"("name":"a","hashes":{"SHA 1":"x"})"), "$.hashes['SHA 1']",
                 "hash-algorithm-ov");
}

}  // namespace
}  // namespace ctihub::stix
