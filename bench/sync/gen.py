#!/usr/bin/env python3
"""Writes a gzip'd STIX 2.1 bundle of N indicators for bench/sync/run.sh: the
patterns of bench/export/gen.py, alternately TLP:GREEN and TLP:AMBER (a reader
granted GREEN is entitled to half of them), deterministic ids.
Usage: gen.py N OUT.json.gz"""
import gzip
import json
import os
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "export"))
from gen import pattern  # noqa: E402

GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
NS = uuid.UUID("8a0d5a8e-52f4-4c3b-9d0e-7f2f4f7c1e11")


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    with gzip.open(out, "wt", compresslevel=1) as f:
        f.write('{"type":"bundle","id":"bundle--%s","objects":[' % uuid.uuid5(NS, "bundle-%d" % n))
        for i in range(n):
            o = {"type": "indicator", "spec_version": "2.1",
                 "id": "indicator--%s" % uuid.uuid5(NS, str(i)),
                 "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                 "name": "sync bench %d" % i, "pattern": pattern(i), "pattern_type": "stix",
                 "valid_from": "2026-01-01T00:00:00Z",
                 "object_marking_refs": [GREEN if i % 2 == 0 else AMBER]}
            f.write(("," if i else "") + json.dumps(o, separators=(",", ":")))
        f.write("]}\n")


if __name__ == "__main__":
    main()
