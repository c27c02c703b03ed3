ctihub_add_fuzzer(misp_read SOURCES misp_read_fuzz.cc LIBS ctihub_formats)
