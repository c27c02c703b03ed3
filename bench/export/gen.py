#!/usr/bin/env python3
"""Writes a gzip'd STIX 2.1 bundle of N indicators for bench/export/run.sh:
a quarter each of domain, IPv4, URL and SHA-256 patterns, TLP:GREEN, every
tenth PAP:AMBER (left out of the blocking formats), deterministic ids.
Usage: gen.py N OUT.json.gz"""
import gzip
import hashlib
import json
import sys
import uuid

GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
PAP_AMBER = "marking-definition--60f8932b-e51e-4458-b265-a2e8be9a80ab"
NS = uuid.UUID("3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b")


def pattern(i):
    k = i % 4
    if k == 0:
        return "[domain-name:value = 'host%d.bench-%d.example']" % (i, i % 997)
    if k == 1:
        return "[ipv4-addr:value = '%d.%d.%d.%d']" % (10 + i // 16777216 % 200, i // 65536 % 256,
                                                      i // 256 % 256, i % 256)
    if k == 2:
        return "[url:value = 'http://u%d.bench.example/p/%d?q=%d']" % (i % 5003, i, i % 7)
    return "[file:hashes.'SHA-256' = '%s']" % hashlib.sha256(b"%d" % i).hexdigest()


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    with gzip.open(out, "wt", compresslevel=1) as f:
        f.write('{"type":"bundle","id":"bundle--%s","objects":[' % uuid.uuid5(NS, "bundle-%d" % n))
        for i in range(n):
            o = {"type": "indicator", "spec_version": "2.1",
                 "id": "indicator--%s" % uuid.uuid5(NS, str(i)),
                 "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                 "name": "bench %d" % i, "pattern": pattern(i), "pattern_type": "stix",
                 "valid_from": "2026-01-01T00:00:00Z",
                 "object_marking_refs": [GREEN] + ([PAP_AMBER] if i % 10 == 0 else [])}
            if i:
                f.write(",")
            f.write(json.dumps(o, separators=(",", ":")))
        f.write("]}\n")


if __name__ == "__main__":
    main()
