#include "policy/markings.h"

#include <array>
#include <cctype>
#include <string>

#include "core/tlp.h"

namespace ctihub::policy {
namespace {

struct Entry {
  std::string_view id;
  MarkingInfo info;
};

constexpr MarkingInfo T(Tlp t) { return {MarkingKind::kTlp, t, Pap::kClear}; }
constexpr MarkingInfo P(Pap p) { return {MarkingKind::kPap, Tlp::kClear, p}; }

// The TLP entries come from core/tlp.h, the one copy of the fixed TLP
// definitions: the five TLP 2.0 first, in Tlp order (Tlp2MarkingId indexes
// them), then TLP 1.0 mapped to the 2.0 levels; then PAP.
std::array<Entry, 14> BuildCatalogue() {
  std::array<Entry, 14> c{};
  size_t n = 0;
  for (int version : {2, 1}) {
    for (const tlp::FixedMarking& m : tlp::FixedMarkings()) {
      if (m.tlp_version == version) c[n++] = {m.id, T(*ParseTlp(m.level))};
    }
  }
  // PAP (OASIS extension f8d78575); PAP:WHITE is the 1.0 name of CLEAR.
  c[n++] = {"marking-definition--ad15a0cd-55b6-4588-a14c-a66105329b92", P(Pap::kClear)};
  c[n++] = {"marking-definition--a3bea94c-b469-41dc-9cfe-d6e7daba7730", P(Pap::kClear)};
  c[n++] = {"marking-definition--c43594d1-4b11-4c59-93ab-1c9b14d53ce9", P(Pap::kGreen)};
  c[n++] = {"marking-definition--60f8932b-e51e-4458-b265-a2e8be9a80ab", P(Pap::kAmber)};
  c[n++] = {"marking-definition--740d36e5-7714-4c30-961a-3ae632ceee0e", P(Pap::kRed)};
  return c;
}

const std::array<Entry, 14>& Catalogue() {
  static const std::array<Entry, 14> catalogue = BuildCatalogue();
  return catalogue;
}

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
  for (const Entry& e : Catalogue()) {
    if (e.id == id) return e.info;
  }
  return {};
}

std::string_view Tlp2MarkingId(Tlp t) { return Catalogue()[static_cast<size_t>(t)].id; }

std::string_view PapMarkingId(Pap p) {
  switch (p) {
    case Pap::kClear:
      return Catalogue()[9].id;
    case Pap::kGreen:
      return Catalogue()[11].id;
    case Pap::kAmber:
      return Catalogue()[12].id;
    case Pap::kRed:
      return Catalogue()[13].id;
  }
  return {};
}

}  // namespace ctihub::policy
