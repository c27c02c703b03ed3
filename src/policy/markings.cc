#include "policy/markings.h"

#include <array>
#include <cctype>
#include <string>

namespace ctihub::policy {
namespace {

struct Entry {
  std::string_view id;
  MarkingInfo info;
};

constexpr MarkingInfo T(Tlp t) { return {MarkingKind::kTlp, t, Pap::kClear}; }
constexpr MarkingInfo P(Pap p) { return {MarkingKind::kPap, Tlp::kClear, p}; }

constexpr std::array<Entry, 14> kCatalogue = {{
    // TLP 2.0 (FIRST), as OASIS publishes them.
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", T(Tlp::kClear)},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", T(Tlp::kGreen)},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", T(Tlp::kAmber)},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", T(Tlp::kAmberStrict)},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", T(Tlp::kRed)},
    // TLP 1.0 (STIX 2.1 section 7.2.1.4), mapped to their 2.0 equivalents.
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", T(Tlp::kClear)},  // WHITE
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", T(Tlp::kGreen)},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", T(Tlp::kAmber)},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", T(Tlp::kRed)},
    // PAP (OASIS extension f8d78575); PAP:WHITE is the 1.0 name of CLEAR.
    {"marking-definition--ad15a0cd-55b6-4588-a14c-a66105329b92", P(Pap::kClear)},
    {"marking-definition--a3bea94c-b469-41dc-9cfe-d6e7daba7730", P(Pap::kClear)},
    {"marking-definition--c43594d1-4b11-4c59-93ab-1c9b14d53ce9", P(Pap::kGreen)},
    {"marking-definition--60f8932b-e51e-4458-b265-a2e8be9a80ab", P(Pap::kAmber)},
    {"marking-definition--740d36e5-7714-4c30-961a-3ae632ceee0e", P(Pap::kRed)},
}};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string_view TlpName(Tlp t) {
  switch (t) {
    case Tlp::kClear:
      return "clear";
    case Tlp::kGreen:
      return "green";
    case Tlp::kAmber:
      return "amber";
    case Tlp::kAmberStrict:
      return "amber+strict";
    case Tlp::kRed:
      return "red";
  }
  return "?";
}

std::string_view PapName(Pap p) {
  switch (p) {
    case Pap::kClear:
      return "clear";
    case Pap::kGreen:
      return "green";
    case Pap::kAmber:
      return "amber";
    case Pap::kRed:
      return "red";
  }
  return "?";
}

std::optional<Tlp> ParseTlp(std::string_view s) {
  std::string l = Lower(s);
  std::string_view v = l;
  if (v.substr(0, 4) == "tlp:") v.remove_prefix(4);
  if (v == "clear" || v == "white") return Tlp::kClear;
  if (v == "green") return Tlp::kGreen;
  if (v == "amber") return Tlp::kAmber;
  if (v == "amber+strict") return Tlp::kAmberStrict;
  if (v == "red") return Tlp::kRed;
  return std::nullopt;
}

std::optional<Pap> ParsePap(std::string_view s) {
  std::string l = Lower(s);
  std::string_view v = l;
  if (v.substr(0, 4) == "pap:") v.remove_prefix(4);
  if (v == "clear" || v == "white") return Pap::kClear;
  if (v == "green") return Pap::kGreen;
  if (v == "amber") return Pap::kAmber;
  if (v == "red") return Pap::kRed;
  return std::nullopt;
}

MarkingInfo LookupMarking(std::string_view id) {
  if (id.size() != 56) return {};  // "marking-definition--" + 36
  for (const Entry& e : kCatalogue) {
    if (e.id == id) return e.info;
  }
  return {};
}

std::string_view Tlp2MarkingId(Tlp t) { return kCatalogue[static_cast<size_t>(t)].id; }

std::string_view PapMarkingId(Pap p) {
  switch (p) {
    case Pap::kClear:
      return kCatalogue[9].id;
    case Pap::kGreen:
      return kCatalogue[11].id;
    case Pap::kAmber:
      return kCatalogue[12].id;
    case Pap::kRed:
      return kCatalogue[13].id;
  }
  return {};
}

}  // namespace ctihub::policy
