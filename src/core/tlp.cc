#include "core/tlp.h"

namespace ctihub::tlp {
namespace {

#define CTIHUB_TLP1_BODY(level, id)                                            \
  "{\"created\":\"2017-01-20T00:00:00.000Z\",\"definition\":{\"tlp\":\"" level \
  "\"},\"definition_type\":\"tlp\",\"id\":\"" id "\""
#define CTIHUB_TLP1_TAIL "\"spec_version\":\"2.1\",\"type\":\"marking-definition\"}"
#define CTIHUB_TLP1(level, name, id)                                                      \
  FixedMarking {                                                                          \
    id, level, 1, CTIHUB_TLP1_BODY(level, id) ",\"name\":\"" name "\"," CTIHUB_TLP1_TAIL, \
        CTIHUB_TLP1_BODY(level, id) "," CTIHUB_TLP1_TAIL                                  \
  }
#define CTIHUB_TLP2(level, name, id)                                                               \
  FixedMarking {                                                                                   \
    id, level, 2,                                                                                  \
        "{\"created\":\"2022-10-01T00:00:00.000Z\",\"extensions\":{\"extension-definition--"       \
        "60a3c5c5-0d10-"                                                                           \
        "413e-aab3-9e08dde9e88d\":{\"extension_type\":\"property-extension\",\"tlp_2_0\":\"" level \
        "\"}},\"id\":\"" id "\",\"name\":\"" name                                                  \
        "\",\"spec_version\":\"2.1\",\"type\":\"marking-definition\"}",                            \
        ""                                                                                         \
  }

constexpr std::array<FixedMarking, 9> kFixed = {{
    CTIHUB_TLP1("white", "TLP:WHITE", "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"),
    CTIHUB_TLP1("green", "TLP:GREEN", "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"),
    CTIHUB_TLP1("amber", "TLP:AMBER", "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"),
    CTIHUB_TLP1("red", "TLP:RED", "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"),
    CTIHUB_TLP2("clear", "TLP:CLEAR", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"),
    CTIHUB_TLP2("green", "TLP:GREEN", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"),
    CTIHUB_TLP2("amber", "TLP:AMBER", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"),
    CTIHUB_TLP2("amber+strict", "TLP:AMBER+STRICT",
                "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"),
    CTIHUB_TLP2("red", "TLP:RED", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"),
}};

#undef CTIHUB_TLP1
#undef CTIHUB_TLP1_BODY
#undef CTIHUB_TLP1_TAIL
#undef CTIHUB_TLP2

}  // namespace

const std::array<FixedMarking, 9>& FixedMarkings() { return kFixed; }

const FixedMarking* FindFixedMarking(std::string_view marking_definition_id) {
  for (const FixedMarking& m : kFixed) {
    if (m.id == marking_definition_id) return &m;
  }
  return nullptr;
}

}  // namespace ctihub::tlp
