# The floor of the matcher benchmark (bench/match/run.sh): a simdjson-only pass.
add_executable(match_floor match_floor.cc)
target_link_libraries(match_floor PRIVATE simdjson::simdjson)
