# store_bench: ingest / paging / filtered-read throughput of the SQLite store at scale.
# Plain executable (not Google Benchmark): the targets are rates over a large,
# durable database, measured once. Usage: store_bench [--objects N] [--dir DIR].
add_executable(store_bench ${CMAKE_CURRENT_LIST_DIR}/store_bench.cc)
target_link_libraries(store_bench PRIVATE ctihub_store Threads::Threads)
ctihub_warnings(store_bench)
