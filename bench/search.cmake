# search_bench: GET /api/v1/search at scale (issue 17: under 100 ms at
# 1,000,000 objects): webapi::Search over a generated SQLite store with the
# real policy. Plain executable. Usage: search_bench [--objects N] [--data DIR]
# [--reps N]; see the header of search_bench.cc.
add_executable(search_bench ${CMAKE_CURRENT_LIST_DIR}/search_bench.cc)
target_link_libraries(search_bench PRIVATE ctihub_webapi ctihub_taxii ctihub_policy ctihub_store_postgres ctihub_store
                      Threads::Threads)
ctihub_warnings(search_bench)
