#!/usr/bin/env python3
"""Builds the matcher benchmark's indicators from the real IOC lists (see
../shared/data/MANIFEST.md): one STIX indicator per distinct value (domains,
IPv4/IPv6 addresses, CIDRs, URLs, MD5/SHA-1/SHA-256 hashes), written as one
bundle, plus values.txt (the raw values, one per line) for `grep -F -f`.
The lists hold 985,995 distinct usable values; when MIN_COUNT is more, the
rest are subdomain patterns (`LIKE '%.DOMAIN'`) of the blocklist and phishing
domains, in list order (they also exercise the Hyperscan side).

usage: make_indicators.py IOC_DIR OUT_BUNDLE OUT_VALUES [MIN_COUNT]
"""
import glob
import gzip
import ipaddress
import json
import os
import re
import sys
import uuid

HEX = re.compile(r"^[0-9a-fA-F]+$")
DOMAIN = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)+[A-Za-z][A-Za-z0-9-]{1,62}$")


def classify(v):
    """[(object path, operator, value)] of one list entry (empty when unusable). A maltrail
    `ip:port` trail also gives a `network-traffic:dst_ref.value` indicator: traffic to that
    address (the port is not kept: the exact tables key on one value)."""
    if v.startswith("0.0.0.0 ") or v.startswith("127.0.0.1 "):  # hosts-file lists
        v = v.split(None, 1)[1]
    if HEX.match(v) and len(v) in (32, 40, 64):
        return [("file:hashes.'%s'" % {32: "MD5", 40: "SHA-1", 64: "SHA-256"}[len(v)], "=",
                 v.lower())]
    if "://" in v:
        return [("url:value", "=", v)] if "'" not in v and "\\" not in v else []
    host = v
    if re.match(r"^\d+\.\d+\.\d+\.\d+:\d+$", v):  # maltrail ip:port trails
        host = v.rsplit(":", 1)[0]
        out = [("network-traffic:dst_ref.value", "=", str(ipaddress.ip_address(host)))]
        return out + [("ipv4-addr:value", "=", str(ipaddress.ip_address(host)))]
    try:
        if "/" in host:
            n = ipaddress.ip_network(host, strict=False)
            return [("%s-addr:value" % ("ipv4" if n.version == 4 else "ipv6"), "ISSUBSET", str(n))]
        a = ipaddress.ip_address(host)
        return [("%s-addr:value" % ("ipv4" if a.version == 4 else "ipv6"), "=", str(a))]
    except ValueError:
        pass
    if DOMAIN.match(v):
        return [("domain-name:value", "=", v.lower().rstrip("."))]
    host, slash, rest = v.partition("/")
    if slash and DOMAIN.match(host) and "'" not in rest and "\\" not in rest and " " not in rest:
        # maltrail `host/path` trails: the URL an HTTP request to it makes (the Zeek map
        # builds url:value as http:// + host + uri)
        return [("url:value", "=", "http://%s/%s" % (host.lower(), rest))]
    return []


def main():
    ioc_dir, out_bundle, out_values = sys.argv[1:4]
    minimum = int(sys.argv[4]) if len(sys.argv) > 4 else 1000000
    seen, values = set(), set()
    fill = []  # non-maltrail domains, for LIKE patterns
    rng = uuid.UUID(int=0x1234)  # deterministic ids: uuid5 over the value
    with open(out_bundle, "w") as b, open(out_values, "w") as vals:
        b.write('{"type":"bundle","id":"bundle--%s","objects":[\n' % uuid.uuid5(rng, "bundle"))
        n = 0

        def write(obj_path, op, value):
            nonlocal n
            pattern = "[%s %s '%s']" % (obj_path, op, value)
            o = {"type": "indicator", "spec_version": "2.1",
                 "id": "indicator--%s" % uuid.uuid5(rng, pattern),
                 "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                 "pattern": pattern, "pattern_type": "stix", "valid_from": "2000-01-01T00:00:00Z"}
            b.write(("," if n else "") + json.dumps(o, separators=(",", ":")) + "\n")
            plain = value[2:] if op == "LIKE" else value
            if plain not in values:
                values.add(plain)
                vals.write(plain + "\n")
            n += 1

        for path in sorted(glob.glob(os.path.join(ioc_dir, "*.gz"))):
            with gzip.open(path, "rt", errors="replace") as f:
                for line in f:
                    line = line.strip()
                    if not line or line.startswith("#"):
                        continue
                    for c in classify(line):
                        if c in seen:
                            continue
                        seen.add(c)
                        obj_path, op, value = c
                        if obj_path == "domain-name:value" and "maltrail" not in path:
                            fill.append(value)
                        write(obj_path, op, value)
        for d in fill:
            if n >= minimum:
                break
            write("domain-name:value", "LIKE", "%." + d)
        b.write("]}\n")
    print("indicators: %d" % n, file=sys.stderr)
    if n < minimum:
        sys.exit("only %d indicators (< %d)" % (n, minimum))


if __name__ == "__main__":
    main()
