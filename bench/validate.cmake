add_executable(validate_bench validate_bench.cc)
target_link_libraries(validate_bench PRIVATE ctihub_stix benchmark::benchmark benchmark::benchmark_main)
