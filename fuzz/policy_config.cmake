# The policy TOML loader (src/policy/model.h): a hub must never start with a
# policy it cannot parse, and no input may crash the loader.
ctihub_add_fuzzer(policy_config SOURCES policy_config_fuzz.cc LIBS ctihub_policy)
