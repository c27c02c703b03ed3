# HTTP request parsing (Beast parser with the server's limits) and routing into
# the TAXII request model and resources (in-memory store).
ctihub_add_fuzzer(http_request SOURCES http_request_fuzz.cc LIBS ctihub_http ctihub_store_testing)
