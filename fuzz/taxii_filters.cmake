# TAXII request target / URL filter parsing and POSTed envelope parsing.
ctihub_add_fuzzer(taxii_filters SOURCES taxii_filters_fuzz.cc LIBS ctihub_taxii)
