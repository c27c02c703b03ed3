# import_bench: the import formats' conversion rates without the store: free-text
# extraction (MB/s, report prose and a dense IOC list; CTIHUB_BENCH_TEXT=<file>
# adds a real feed) and MISP event -> STIX 2.1 (attributes/s). The end-to-end
# durable figures are bench/import/run.sh's.
add_executable(import_bench ${CMAKE_CURRENT_LIST_DIR}/import_bench.cc)
target_link_libraries(import_bench PRIVATE ctihub_formats benchmark::benchmark benchmark::benchmark_main)
ctihub_warnings(import_bench)
