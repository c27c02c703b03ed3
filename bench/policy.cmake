# Policy cost on the read path (src/policy): paging objects with and without
# the access decision. See the header of policy_bench.cc.
add_executable(policy_bench policy_bench.cc)
target_link_libraries(policy_bench PRIVATE ctihub_policy benchmark::benchmark)
ctihub_warnings(policy_bench)
