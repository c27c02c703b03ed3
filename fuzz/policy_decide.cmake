# The sharing decision on stored objects (src/policy/policy.h): the read
# path's decision from the store's columns and the canonical text must equal
# the decision from the parsed object, redacted bytes included.
ctihub_add_fuzzer(policy_decide SOURCES policy_decide_fuzz.cc LIBS ctihub_policy ctihub_stix)
