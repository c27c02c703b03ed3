# HTTP request parsing (Beast parser with the server's limits) and routing into
# the TAXII request model and resources (in-memory store).
if(TARGET ctihub_http AND TARGET ctihub_taxii_memory_store)
  ctihub_add_fuzzer(http_request SOURCES http_request_fuzz.cc LIBS ctihub_http ctihub_taxii_memory_store)
endif()
