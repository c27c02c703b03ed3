#!/usr/bin/env python3
"""Writes the `ctihub pattern match|validate --batch` benchmark workload.

Each line: one single-comparison pattern against one STIX 2.1 observed-data
with its SCO (the workload named in issue 11). Half the lines match. The
pattern text varies over a small set, as an indicator feed's would.
usage: gen.py match|validate LINES OUT
"""
import json
import sys

kind, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
PATTERNS = 16
with open(out, "w") as f:
    for i in range(n):
        p = i % PATTERNS
        pattern = "[ipv4-addr:value = '198.51.100.%d']" % p
        line = {"id": "l%d" % i, "pattern": pattern, "stix_version": "2.1"}
        if kind == "match":
            value = "198.51.100.%d" % (p if i % 2 == 0 else 200)
            line["observed"] = [
                {"type": "observed-data", "spec_version": "2.1",
                 "id": "observed-data--%08x-0000-4000-8000-000000000000" % i,
                 "created": "2020-01-01T00:00:00Z", "modified": "2020-01-01T00:00:00Z",
                 "first_observed": "2020-01-01T00:00:00Z", "last_observed": "2020-01-01T00:00:00Z",
                 "number_observed": 1, "object_refs": ["ipv4-addr--%08x-0000-4000-8000-000000000000" % i]},
                {"type": "ipv4-addr", "spec_version": "2.1",
                 "id": "ipv4-addr--%08x-0000-4000-8000-000000000000" % i, "value": value}]
        f.write(json.dumps(line, separators=(",", ":")) + "\n")
