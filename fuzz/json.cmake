ctihub_add_fuzzer(json SOURCES json_fuzz.cc LIBS ctihub_core)
