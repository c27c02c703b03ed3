ctihub_add_fuzzer(match_stix SOURCES match_stix_fuzz.cc LIBS ctihub_matcher)
