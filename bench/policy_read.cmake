# policy_read_bench: the sharing policy's cost on the real TAXII read path
# (taxii::Service::Handle paging a SQLite store, with and without the policy
# and the audit trail; issue 5's 15% budget). Plain executable, not Google
# Benchmark. Usage: policy_read_bench [--objects N] [--data DIR] [--reps N]
# [--keep] [--no-analysis]; see the header of policy_read_bench.cc.
add_executable(policy_read_bench ${CMAKE_CURRENT_LIST_DIR}/policy_read_bench.cc)
target_link_libraries(policy_read_bench PRIVATE ctihub_taxii ctihub_policy ctihub_audit
                      ctihub_auth ctihub_store Threads::Threads)
ctihub_warnings(policy_read_bench)
