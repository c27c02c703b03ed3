#include "policy/markings.h"

#include <gtest/gtest.h>

namespace ctihub::policy {
namespace {

TEST(Markings, Tlp2Ids) {
  EXPECT_EQ(LookupMarking("marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487").tlp,
            Tlp::kClear);
  EXPECT_EQ(LookupMarking("marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb").tlp,
            Tlp::kGreen);
  EXPECT_EQ(LookupMarking("marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421").tlp,
            Tlp::kAmber);
  EXPECT_EQ(LookupMarking("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003").tlp,
            Tlp::kAmberStrict);
  EXPECT_EQ(LookupMarking("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1").tlp,
            Tlp::kRed);
}

TEST(Markings, Tlp1MapsTo2) {
  auto w = LookupMarking("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9");
  EXPECT_EQ(w.kind, MarkingKind::kTlp);
  EXPECT_EQ(w.tlp, Tlp::kClear);
  EXPECT_EQ(LookupMarking("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da").tlp,
            Tlp::kGreen);
  EXPECT_EQ(LookupMarking("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82").tlp,
            Tlp::kAmber);
  EXPECT_EQ(LookupMarking("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed").tlp,
            Tlp::kRed);
}

TEST(Markings, PapAndStatements) {
  auto p = LookupMarking("marking-definition--740d36e5-7714-4c30-961a-3ae632ceee0e");
  EXPECT_EQ(p.kind, MarkingKind::kPap);
  EXPECT_EQ(p.pap, Pap::kRed);
  EXPECT_EQ(LookupMarking("marking-definition--c43594d1-4b11-4c59-93ab-1c9b14d53ce9").pap,
            Pap::kGreen);
  // A statement marking (any id not in the catalogue) has no effect on access.
  EXPECT_EQ(LookupMarking("marking-definition--00000000-0000-4000-8000-000000000000").kind,
            MarkingKind::kOther);
  EXPECT_EQ(LookupMarking("garbage").kind, MarkingKind::kOther);
}

TEST(Markings, NamesRoundTrip) {
  for (int i = 0; i <= 4; ++i)
    EXPECT_EQ(ParseTlp(TlpName(static_cast<Tlp>(i))), static_cast<Tlp>(i));
  for (int i = 0; i <= 3; ++i)
    EXPECT_EQ(ParsePap(PapName(static_cast<Pap>(i))), static_cast<Pap>(i));
  EXPECT_EQ(ParseTlp("TLP:WHITE"), Tlp::kClear);
  EXPECT_EQ(ParseTlp("TLP:AMBER+STRICT"), Tlp::kAmberStrict);
  EXPECT_FALSE(ParseTlp("purple"));
  for (int i = 0; i <= 4; ++i)
    EXPECT_EQ(LookupMarking(Tlp2MarkingId(static_cast<Tlp>(i))).tlp, static_cast<Tlp>(i));
  for (int i = 0; i <= 3; ++i)
    EXPECT_EQ(LookupMarking(PapMarkingId(static_cast<Pap>(i))).pap, static_cast<Pap>(i));
}

}  // namespace
}  // namespace ctihub::policy
