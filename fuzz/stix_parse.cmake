ctihub_add_fuzzer(stix_parse SOURCES stix_parse_fuzz.cc LIBS ctihub_stix)
