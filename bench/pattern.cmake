# pattern_bench: parse rate, single-comparison evaluation rate, FOLLOWEDBY/WITHIN
# over a 1,000-observation window. CTIHUB_PATTERN_CORPUS=<dir or file> makes the
# parse benchmark use the indicator patterns found in those STIX JSON files.
add_executable(pattern_bench ${CMAKE_CURRENT_LIST_DIR}/pattern_bench.cc)
target_link_libraries(pattern_bench PRIVATE ctihub_pattern benchmark::benchmark benchmark::benchmark_main)
ctihub_warnings(pattern_bench)
