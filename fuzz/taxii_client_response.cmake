# The TAXII client's parsing of untrusted server answers: every resource body,
# Retry-After, URLs (discovery's API roots), and the pager fed the parsed pages.
ctihub_add_fuzzer(taxii_client_response SOURCES taxii_client_response_fuzz.cc LIBS ctihub_taxii_client)
