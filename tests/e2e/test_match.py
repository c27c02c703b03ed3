#!/usr/bin/env python3
"""End to end: `ctihub match` (bulk matcher over sensor logs).

The test writes its own indicators (exact domain, LIKE subdomain, CIDR, exact
IP, SHA-256, URL, an IPv4 reached through an IPv4-mapped IPv6 address, a
revoked and an expired one, a multi-observation FOLLOWEDBY pattern) and its own
logs (Zeek JSON, Zeek TSV gzipped, Suricata EVE, JSON lines with --map, with
malformed lines), then computes the expected hits itself from the documented
field maps and normalisation rules (docs/formats/match.md) and compares them
with the command's output exactly. It also reads the indicators from a hub
collection as users of two organisations (the sharing policy decides what
each may use), validates the sightings file with `ctihub validate` and
reports sightings into a collection through the import write path. The
`taxii:URL` source reads the same indicators from a running hub over TAXII 2.1
(paged, Bearer and Basic, TLS with --ca-file) and must give exactly the hits of
the bundle file; a wrong token, a dead or silent server end with exit 2.
`--follow` tails a Zeek log while the test appends to it, rotates it and
truncates it, and stops by its idle limit or a signal with the summary.
"""
import datetime
import gzip
import ipaddress
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub import Hub, check, malware, parse_args, run_tests  # noqa: E402

ARGS = None
T0 = 1717200000  # 2024-06-01T00:00:00Z: inside every indicator's validity but the expired one
HASH = "ab" * 16 + "cd" * 16


def iid():
    return "indicator--" + str(uuid.uuid4())


def ind(pattern, **extra):
    o = {"type": "indicator", "spec_version": "2.1", "id": iid(),
         "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
         "pattern": pattern, "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"}
    o.update(extra)
    return o


# name -> (indicator, predicate over one normalised (path, value) field, or None for the
# multi-observation pattern, which the test evaluates over the event stream itself)
def make_indicators():
    return {
        "domain": (ind("[domain-name:value = 'evil.example.com']"),
                   lambda p, v: p == "domain-name:value" and v == "evil.example.com"),
        "like": (ind("[domain-name:value LIKE '%.bad.test']"),
                 lambda p, v: p == "domain-name:value" and v.endswith(".bad.test")),
        "cidr": (ind("[ipv4-addr:value ISSUBSET '198.51.100.0/24']"),
                 lambda p, v: p == "ipv4-addr:value" and
                 ipaddress.ip_address(v) in ipaddress.ip_network("198.51.100.0/24")),
        "ip": (ind("[ipv4-addr:value = '203.0.113.9']"),
               lambda p, v: p == "ipv4-addr:value" and v == "203.0.113.9"),
        "mapped": (ind("[ipv4-addr:value = '203.0.113.10']"),
                   lambda p, v: p == "ipv4-addr:value" and v == "203.0.113.10"),
        "sha256": (ind("[file:hashes.'SHA-256' = '%s']" % HASH.upper()),
                   lambda p, v: p == "file:hashes.'SHA-256'" and v == HASH),
        "url": (ind("[url:value = 'http://shop.test/login.php']"),
                lambda p, v: p == "url:value" and v == "http://shop.test/login.php"),
        "revoked": (ind("[domain-name:value = 'revoked.test']", revoked=True), None),
        "expired": (ind("[domain-name:value = 'expired.test']",
                        valid_from="2019-01-01T00:00:00Z", valid_until="2020-01-01T00:00:00Z"),
                    lambda p, v: p == "domain-name:value" and v == "expired.test"),
        "sequence": (ind("[domain-name:value = 'stage.test'] FOLLOWEDBY "
                         "[ipv4-addr:value = '192.0.2.200'] WITHIN 60 SECONDS"), None),
    }


def rfc3339(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


# ---- the logs: each event as (time, [(field path, raw value), ...]) plus its rendered line ----

def norm(path, raw):
    """The documented normalisation: domains lower case without one trailing dot, hashes
    lower case, addresses in inet_ntop form with IPv4-mapped IPv6 as IPv4."""
    if path in ("ipv4-addr:value", "network-traffic:src_ref.value", "network-traffic:dst_ref.value"):
        a = ipaddress.ip_address(raw)
        if a.version == 6 and a.ipv4_mapped:
            a = a.ipv4_mapped
        return str(a)
    if path == "domain-name:value":
        v = raw.lower()
        return v[:-1] if v.endswith(".") else v
    if path.startswith("file:hashes"):
        return raw.lower()
    return raw


def conn_fields(orig, resp):
    return [("network-traffic:src_ref.value", orig), ("network-traffic:dst_ref.value", resp)]


class Log:
    def __init__(self, name):
        self.name = name
        self.lines = []    # text lines
        self.events = {}   # 1-based line -> (time, fields)

    def add(self, text, t=None, fields=None):
        self.lines.append(text)
        if fields is not None:
            self.events[len(self.lines)] = (t, fields)


def zeek_json_log():
    log = Log("zeek.json")

    def z(path, t, orig, resp, **kw):
        rec = {"ts": t, "uid": "C" + uuid.uuid4().hex[:8], "id.orig_h": orig, "id.orig_p": 5000,
               "id.resp_h": resp, "id.resp_p": 53, "_path": path}
        rec.update(kw)
        return json.dumps(rec)

    def dns(t, query, answers=(), orig="10.0.0.5", resp="192.0.2.53"):
        fields = conn_fields(orig, resp) + [("domain-name:value", query)]
        for a in answers:
            try:
                ipaddress.ip_address(a)
                fields.append(("ipv4-addr:value", a))
            except ValueError:
                fields.append(("domain-name:value", a))
        log.add(z("dns", t, orig, resp, query=query, answers=list(answers)), t, fields)

    t = T0
    log.add(z("conn", t, "10.0.0.5", "198.51.100.77"), t, conn_fields("10.0.0.5", "198.51.100.77"))
    dns(t + 1, "EVIL.Example.com.", ["203.0.113.9", "cname.other.test"])
    dns(t + 2, "www.evil.example.com")  # a subdomain: only a LIKE pattern would say so
    dns(t + 3, "a.bad.test")
    dns(t + 4, "bad.test")  # not a subdomain of itself
    log.add(z("http", t + 5, "10.0.0.5", "192.0.2.80", host="shop.test", uri="/login.php"), t + 5,
            conn_fields("10.0.0.5", "192.0.2.80") +
            [("domain-name:value", "shop.test"), ("url:value", "http://shop.test/login.php")])
    log.add(z("files", t + 6, "192.0.2.80", "10.0.0.5", sha256=HASH, md5="00" * 16), t + 6,
            conn_fields("192.0.2.80", "10.0.0.5") + [("file:hashes.'SHA-256'", HASH)])
    dns(t + 7, "revoked.test")
    dns(t + 8, "expired.test")
    log.add('{"ts": 1717200009, "_path": "dns", "query": ')  # malformed: cut short
    dns(t + 100, "stage.test")
    log.add(z("conn", t + 110, "10.0.0.5", "192.0.2.200"), t + 110,
            conn_fields("10.0.0.5", "192.0.2.200"))
    log.add(z("conn", t + 1000, "10.0.0.5", "192.0.2.200"), t + 1000,
            conn_fields("10.0.0.5", "192.0.2.200"))
    log.add(z("ssl", t + 11, "10.0.0.5", "192.0.2.44", server_name="x.bad.test"), t + 11,
            conn_fields("10.0.0.5", "192.0.2.44") + [("domain-name:value", "x.bad.test")])
    log.add(z("conn", t + 12, "::ffff:203.0.113.10", "192.0.2.1"), t + 12,
            conn_fields("::ffff:203.0.113.10", "192.0.2.1"))
    log.add("not json either")  # malformed
    return log


def zeek_tsv_log():
    log = Log("dns.log.gz")
    cols = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "query",
            "answers"]
    for h in ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)",
              "#unset_field\t-", "#path\tdns", "#fields\t" + "\t".join(cols),
              "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tvector[string]"]:
        log.add(h)

    def row(t, query, answers):
        cells = ["%d.000000" % t, "Cx", "10.0.0.7", "5353", "192.0.2.53", "53", "udp", query,
                 ",".join(answers) if answers else "-"]
        fields = conn_fields("10.0.0.7", "192.0.2.53") + [("domain-name:value", query)]
        fields += [("ipv4-addr:value", a) for a in answers]
        log.add("\t".join(cells), t, fields)

    row(T0 + 20, "c.bad.test", [])
    row(T0 + 21, "evil.example.com", ["198.51.100.3"])
    log.add("%d.000000\tCy\t10.0.0.7" % (T0 + 22))  # malformed: too few fields
    row(T0 + 23, "expired.test", [])
    return log


def suricata_log():
    log = Log("eve.json")

    def eve(t, kind, src, dst, extra, fields):
        rec = {"timestamp": datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S.000000+0000"), "event_type": kind, "src_ip": src, "dest_ip": dst}
        rec.update(extra)
        log.add(json.dumps(rec), t, conn_fields(src, dst) + fields)

    eve(T0 + 30, "dns", "10.0.0.8", "192.0.2.53", {"dns": {"type": "query", "rrname": "d.bad.test"}},
        [("domain-name:value", "d.bad.test")])
    eve(T0 + 31, "tls", "10.0.0.8", "192.0.2.45", {"tls": {"sni": "Evil.Example.Com"}},
        [("domain-name:value", "Evil.Example.Com")])
    eve(T0 + 32, "fileinfo", "192.0.2.80", "10.0.0.8",
        {"fileinfo": {"sha256": HASH.upper(), "filename": "x.exe"}},
        [("file:hashes.'SHA-256'", HASH.upper())])
    eve(T0 + 33, "http", "10.0.0.8", "192.0.2.80",
        {"http": {"hostname": "shop.test", "url": "/login.php"}},
        [("domain-name:value", "shop.test"), ("url:value", "http://shop.test/login.php")])
    eve(T0 + 34, "alert", "10.0.0.8", "203.0.113.9", {"alert": {"signature": "x"}}, [])
    log.add('{"event_type": "dns", "dns": {')  # malformed
    return log


MAPS = ["client=ipv4-addr:value", "site=domain-name:value", "dst.ip=ipv4-addr:value"]


def jsonl_log():
    log = Log("proxy.jsonl")

    def line(t, rec, fields):
        rec = dict(rec, time=datetime.datetime.fromtimestamp(
            t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
        log.add(json.dumps(rec), t, fields)

    line(T0 + 40, {"client": "10.0.0.9", "site": "E.BAD.TEST"},
         [("ipv4-addr:value", "10.0.0.9"), ("domain-name:value", "E.BAD.TEST")])
    line(T0 + 41, {"client": "10.0.0.9", "dst": {"ip": "198.51.100.200"}},
         [("ipv4-addr:value", "10.0.0.9"), ("ipv4-addr:value", "198.51.100.200")])
    line(T0 + 42, {"site": "clean.test"}, [("domain-name:value", "clean.test")])
    log.add("[1, 2")  # malformed
    return log


def write_log(directory, log):
    path = os.path.join(directory, log.name)
    data = ("\n".join(log.lines) + "\n").encode()
    if path.endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)
    return path


def address_alias(path):
    """A traffic ref's address also matches as ipv4-addr:value."""
    return "ipv4-addr:value" if path.startswith("network-traffic:") else path


def expected_hits(logs, paths, indicators, ignore_validity=False, usable=None):
    """(indicator_id, pattern, path, value, file, line, time) of every hit, computed here.
    `usable`: the indicator names the reader may use (default all)."""
    out = []
    pending_stage = []  # times of unconsumed stage.test events (FOLLOWEDBY state)
    for log, path in zip(logs, paths):
        for line in sorted(log.events):
            t, fields = log.events[line]
            normalised = [(address_alias(p), norm(p, v)) for p, v in fields]
            for name, (obj, pred) in indicators.items():
                if usable is not None and name not in usable:
                    continue
                if pred is None:
                    continue
                if name == "expired" and not ignore_validity:
                    continue
                for p, v in normalised:
                    if pred(p, v):
                        out.append((obj["id"], obj["pattern"], p, v, path, line, rfc3339(t)))
                        break
            if usable is None or "sequence" in usable:
                seq = indicators["sequence"][0]
                if ("domain-name:value", "stage.test") in normalised:
                    pending_stage.append(t)
                if ("ipv4-addr:value", "192.0.2.200") in normalised:
                    pending_stage = [s for s in pending_stage if s >= t - 60]
                    if pending_stage:
                        pending_stage.pop(0)
                        # path/value: the first field under a path the pattern names
                        p, v = normalised[0]
                        out.append((seq["id"], seq["pattern"], p, v, path, line, rfc3339(t)))
    return sorted(out)


def run(*args, stdin=None):
    r = subprocess.run([ARGS.ctihub] + list(args), capture_output=True, text=True,
                       timeout=120, input=stdin)
    return r.returncode, r.stdout, r.stderr


def hits_of(text):
    out = []
    for line in text.splitlines():
        h = json.loads(line)
        check(sorted(h) == sorted(["indicator_id", "pattern", "path", "value", "file", "line",
                                   "time"]), "a hit has exactly the seven members: %s" % h)
        out.append((h["indicator_id"], h["pattern"], h["path"], h["value"], h["file"],
                    h["line"], h["time"]))
    return sorted(out)


def write_bundle(path, objects):
    with open(path, "w") as f:
        json.dump({"type": "bundle", "id": "bundle--" + str(uuid.uuid4()), "objects": objects}, f)


def fixtures(directory):
    indicators = make_indicators()
    bundle = os.path.join(directory, "indicators.json")
    write_bundle(bundle, [o for o, _ in indicators.values()])
    logs = [zeek_json_log(), zeek_tsv_log(), suricata_log(), jsonl_log()]
    paths = [write_log(directory, log) for log in logs]
    return indicators, bundle, logs, paths


def compare(got, want, what):
    if check(got == want, "%s: the hits are exactly the expected ones" % what):
        return
    for h in want:
        if h not in got:
            print("  missing:", h)
    for h in got:
        if h not in want:
            print("  extra:  ", h)


def test_bundle_source_exact_hits():
    with Hub(ARGS.ctihub, "match-bundle") as hub:
        indicators, bundle, logs, paths = fixtures(hub.dir)
        out = os.path.join(hub.dir, "hits.jsonl")
        args = ["match", "--indicators", bundle, "--input"] + paths
        for m in MAPS:
            args += ["--map", m]
        rc, _, err = run(*(args + ["--output", out]))
        check(rc == 0, "match exits 0 when something hit (%d): %s" % (rc, err))
        want = expected_hits(logs, paths, indicators)
        with open(out) as f:
            compare(hits_of(f.read()), want, "bundle source")
        check(len(want) >= 15, "the fixtures hit something of every kind (%d)" % len(want))
        for needle in ["malformed", "5 malformed", "zeek.json:10:", "dns.log.gz:10:", "eve.json:6:",
                       "proxy.jsonl:4:", "index built in", "lines/s", "1 revoked",
                       "exact", "regex", "stateful"]:
            check(needle in err, "the summary on stderr says %r: %s" % (needle, err))

        # --ignore-validity: the expired indicator matches too; the revoked one never does.
        rc, text, err = run(*(args + ["--ignore-validity"]))
        check(rc == 0, "--ignore-validity run exits 0: %s" % err)
        compare(hits_of(text), expected_hits(logs, paths, indicators, ignore_validity=True),
                "--ignore-validity")

        # stdin, with the format given.
        with open(paths[2]) as f:
            eve = f.read()
        rc, text, err = run("match", "--indicators", bundle, "--input", "-", "--format",
                            "suricata-eve", stdin=eve)
        compare(hits_of(text), expected_hits([logs[2]], ["-"], indicators), "stdin")


def test_bad_input():
    with Hub(ARGS.ctihub, "match-bad") as hub:
        indicators, bundle, logs, paths = fixtures(hub.dir)
        rc, _, err = run("match", "--indicators", os.path.join(hub.dir, "missing.json"), "--input",
                         paths[0])
        check(rc == 2 and "missing.json" in err, "a missing indicator file: exit 2 naming it: %s" % err)
        broken = os.path.join(hub.dir, "broken.json")
        with open(broken, "w") as f:
            f.write('{"type": "bundle", "objects": [{"type": "indicator", "id": ')
        rc, _, err = run("match", "--indicators", broken, "--input", paths[0])
        check(rc == 2 and "broken.json" in err, "a broken bundle: exit 2 naming it: %s" % err)
        rc, _, err = run("match", "--indicators", bundle, "--input", paths[0],
                         os.path.join(hub.dir, "nope.log"))
        check(rc == 2 and "nope.log" in err, "a missing input: exit 2 naming it: %s" % err)
        rc, _, err = run("match", "--indicators", bundle, "--input", paths[0], "--map", "x")
        check(rc == 2 and "--map" in err, "a bad --map: exit 2: %s" % err)
        rc, _, err = run("match", "--indicators", bundle, "--input", paths[0], "--format", "nope")
        check(rc == 2 and "nope" in err, "an unknown --format: exit 2: %s" % err)
        # A line far over the limit is one malformed line; the stream goes on.
        big = os.path.join(hub.dir, "big.json")
        with open(big, "w") as f:
            f.write(logs[0].lines[0] + "\n" + "x" * (3 << 20) + "\n" + logs[0].lines[0] + "\n")
        rc, text, err = run("match", "--indicators", bundle, "--input", big, "--format", "zeek-json")
        check(rc == 0 and len(text.splitlines()) == 2 and "line_too_long" in err,
              "an over-long line is skipped, both others hit: %s %s" % (text, err))
        # Bad patterns are reported and left out; the others still match.
        bad = os.path.join(hub.dir, "bad-patterns.json")
        write_bundle(bad, [ind("[domain-name:value = ]"), ind("[ipv4-addr:value = '203.0.113.9']")])
        rc, text, err = run("match", "--indicators", bad, "--input", paths[0])
        check(rc == 0 and len(text.splitlines()) == 1 and "refused" in err,
              "a bad pattern is refused, the good one hits: %s %s" % (text, err))
        # No hit at all: exit 1.
        none = os.path.join(hub.dir, "none.json")
        write_bundle(none, [ind("[domain-name:value = 'nowhere.test']")])
        rc, text, err = run("match", "--indicators", none, "--input", paths[0])
        check(rc == 1 and text == "", "no hit: exit 1, no output (%d)" % rc)


def test_collection_source_policy_and_sightings():
    with Hub(ARGS.ctihub, "match-hub") as hub:
        hub.setup()
        indicators, _, logs, paths = fixtures(hub.dir)
        # acme publishes all but the LIKE indicator unmarked (AMBER: acme only without a
        # policy.toml), and the LIKE one as TLP:CLEAR (any authenticated reader).
        amber = os.path.join(hub.dir, "amber.json")
        clear = os.path.join(hub.dir, "clear.json")
        write_bundle(amber, [o for n, (o, _) in indicators.items() if n != "like"])
        write_bundle(clear, [indicators["like"][0]])
        hub.cli("import", "--collection", "shared", "--root", "api1", "--org", "acme", amber)
        hub.cli("import", "--collection", "shared", "--root", "api1", "--org", "acme", "--tlp",
                "clear", clear)
        base = ["match", "--data", hub.data, "--indicators", "collection:shared", "--input"] + paths
        for m in MAPS:
            base += ["--map", m]

        sightings = os.path.join(hub.dir, "sightings.json")
        rc, text, err = run(*(base + ["--as-user", "bob", "--sightings", sightings]))
        want_bob = expected_hits(logs, paths, indicators)
        check(rc == 0, "bob (acme) matches: %s" % err)
        compare(hits_of(text), want_bob, "acme's reader")

        rc, text, err = run(*(base + ["--as-user", "olga"]))
        want_olga = expected_hits(logs, paths, indicators, usable={"like"})
        check(rc == 0, "olga (other) matches: %s" % err)
        compare(hits_of(text), want_olga, "another organisation's reader: only TLP:CLEAR")
        check(0 < len(want_olga) < len(want_bob), "the policy made a difference")

        rc, text, err = run(*(base + ["--as-user", "nobody"]))
        check(rc == 2 and "nobody" in err, "an unknown user: exit 2: %s" % err)

        # The sightings: one per indicator with hits, valid STIX, seen by acme.
        rc, out, err = run("validate", sightings)
        check(rc == 0, "ctihub validate accepts the sightings: %s %s" % (out, err))
        with open(sightings) as f:
            bundle = json.load(f)
        acme = [o for o in json.loads(hub.cli("org", "list", "--json")) if o["name"] == "acme"][0]
        counts = {}
        for h in want_bob:
            c = counts.setdefault(h[0], [0, h[6], h[6]])
            c[0] += 1
            c[1] = min(c[1], h[6])
            c[2] = max(c[2], h[6])
        got = {}
        for s in bundle["objects"]:
            check(s["type"] == "sighting" and s["where_sighted_refs"] == [acme["identity_id"]],
                  "a sighting seen by acme: %s" % s)
            got[s["sighting_of_ref"]] = [s["count"], s["first_seen"], s["last_seen"]]
        check(got == counts, "count, first_seen, last_seen per indicator: %s vs %s" % (got, counts))

        # audit: what the reads were given is recorded
        rc, out, err = run("audit", "show", "--data", hub.data, "--action", "object.served")
        check(rc == 0 and "cli match" in out, "the collection reads are audited: %s %s" % (out, err))

        # --report: alice (acme publisher) stores them in `shared`; bob (reader) may not.
        rc, _, err = run(*(base + ["--as-user", "bob", "--report", "--report-collection", "shared"]))
        check(rc == 2 and "may not write" in err, "a reader cannot report: %s" % err)
        rc, _, err = run(*(base + ["--as-user", "alice", "--report", "--report-collection",
                                   "shared", "--root", "api1"]))
        check(rc == 0 and "reported %d sightings" % len(counts) in err,
              "alice reports the sightings: %s" % err)
        hub.start()
        stored, _ = hub.get_all(hub.collections["shared"], "match[type]=sighting", user="alice")
        check(len(stored) == len(counts) and
              all(s.get("created_by_ref") == acme["identity_id"] for s in stored),
              "the reported sightings are in the collection: %d" % len(stored))


def test_threads_same_output():
    with Hub(ARGS.ctihub, "match-threads") as hub:
        indicators, _, logs, small = fixtures(hub.dir)
        single = {n: v for n, v in indicators.items() if n != "sequence"}
        bundle = os.path.join(hub.dir, "single.json")
        write_bundle(bundle, [o for o, _ in single.values()])
        # The Zeek JSON log repeated to a few MB: read in byte ranges by several threads.
        big = Log("big.json")
        for _ in range(1500):
            for i, text in enumerate(logs[0].lines):
                t, fields = logs[0].events.get(i + 1, (None, None))
                big.add(text, t, fields)
        path = write_log(hub.dir, big)
        check(os.path.getsize(path) > 3 << 20, "the threaded input spans several ranges")
        outs = {}
        for n in (1, 3):
            rc, text, err = run("match", "--indicators", bundle, "--input", path, "--threads",
                                str(n))
            check(rc == 0 and "3000 malformed" in err, "--threads %d: %d %s" % (n, rc, err[-600:]))
            outs[n] = text
        check(outs[1] == outs[3], "--threads 3 writes exactly what one thread writes")
        compare(hits_of(outs[3]), expected_hits([big], [path], single, usable=set(single)),
                "--threads 3")
        rc, _, err = run("match", "--indicators", os.path.join(hub.dir, "indicators.json"),
                         "--input", small[0], "--threads", "3")
        check(rc == 0 and "--threads 3 ignored" in err,
              "multi-observation patterns keep one stream: %s" % err[-400:])
        rc, _, err = run("match", "--indicators", bundle, "--input", path, "--threads", "0")
        check(rc == 2, "--threads 0 is refused")


def test_taxii_source():
    with Hub(ARGS.ctihub, "match-taxii") as hub:
        hub.setup()
        indicators, bundle, logs, paths = fixtures(hub.dir)
        objs = [o for o, _ in indicators.values()]
        # The collection also holds a non-indicator: match[type]=indicator leaves it on the server.
        mixed = os.path.join(hub.dir, "mixed.json")
        write_bundle(mixed, objs + [malware("not an indicator")])
        hub.cli("import", "--collection", "shared", "--root", "api1", "--org", "acme", mixed)
        maps = []
        for m in MAPS:
            maps += ["--map", m]
        rc, text, err = run("match", "--indicators", bundle, "--input", *(paths + maps))
        want = hits_of(text)
        check(rc == 0 and len(want) >= 15, "the bundle file hits (%d): %s" % (len(want), err))
        hub.start()
        col = hub.collections["shared"]
        col_url = "%s/api1/collections/%s/" % (hub.url, col)
        bob = hub.tokens["bob"] + "\n"

        # A collection URL, a Bearer token, pages of 3: exactly the bundle file's hits.
        rc, text, err = run("match", "--indicators", "taxii:" + col_url, "--token-stdin",
                            "--taxii-limit", "3", "--input", *(paths + maps), stdin=bob)
        check(rc == 0, "taxii: source exits 0: %d %s" % (rc, err))
        compare(hits_of(text), want, "taxii: collection URL")
        m = re.search(r"(\d+) objects read in (\d+) TAXII pages", err)
        check(m is not None and int(m.group(1)) == len(objs) and int(m.group(2)) >= 4,
              "only the %d indicators were fetched, in pages of 3: %s" % (len(objs), err[:300]))
        check(hub.tokens["bob"] not in err, "the token is not echoed")

        # An API root + --collection with HTTP Basic; the discovery URL + --collection.
        rc, text, err = run("match", "--indicators", "taxii:%s/api1/" % hub.url, "--collection", col,
                            "--user", "alice", "--password-stdin", "--input", *(paths + maps),
                            stdin=hub.passwords["alice"] + "\n")
        check(rc == 0, "API root + --collection, Basic: %d %s" % (rc, err))
        compare(hits_of(text), want, "taxii: API root + --collection")
        check(hub.passwords["alice"] not in err, "the password is not echoed")
        rc, text, err = run("match", "--indicators", "taxii:%s/taxii2/" % hub.url, "--collection",
                            col, "--token-stdin", "--input", *(paths + maps), stdin=bob)
        check(rc == 0, "discovery + --collection: %d %s" % (rc, err))
        compare(hits_of(text), want, "taxii: discovery + --collection")

        # Failures: each a clear message and exit 2.
        rc, text, err = run("match", "--indicators", "taxii:" + col_url, "--token-stdin",
                            "--input", paths[0], stdin="wrong-token-0123\n")
        check(rc == 2 and "unauthorized" in err and "wrong-token-0123" not in err and text == "",
              "a wrong token: exit 2, unauthorized, token not echoed: %d %s" % (rc, err))
        rc, _, err = run("match", "--indicators", "taxii:" + col_url, "--input", paths[0])
        check(rc == 2 and "unauthorized" in err, "no credentials: exit 2: %d %s" % (rc, err))
        rc, _, err = run("match", "--indicators", "taxii:%s/api1/" % hub.url, "--token-stdin",
                         "--input", paths[0], stdin=bob)
        check(rc == 2 and "--collection" in err, "an API root without --collection: %s" % err)
        rc, _, err = run("match", "--indicators", "taxii:%s/api1/collections/%s/" % (hub.url, "nope"),
                         "--token-stdin", "--input", paths[0], stdin=bob)
        check(rc == 2 and "not_found" in err, "an unknown collection: %d %s" % (rc, err))
        rc, _, err = run("match", "--indicators", "taxii:ftp://x/", "--collection", "c",
                         "--input", paths[0])
        check(rc == 2 and "bad_url" in err, "a bad URL: %d %s" % (rc, err))
        rc, _, err = run("match", "--indicators", bundle, "--token-stdin", "--input", paths[0],
                         stdin=bob)
        check(rc == 2 and "taxii:URL" in err, "credential options without taxii: %s" % err)
        rc, _, err = run("match", "--indicators", "taxii:" + col_url, "--token-stdin",
                         "--input", "-", stdin=bob)
        check(rc == 2 and "stdin" in err, "stdin is the token or the input, not both: %s" % err)
    # A port nobody listens on, and a server that accepts and never answers: bounded by
    # --taxii-timeout.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    t0 = time.time()
    rc, _, err = run("match", "--indicators", "taxii:http://127.0.0.1:%d/api1/" % dead,
                     "--collection", "c", "--taxii-timeout", "3", "--input", paths[0])
    check(rc == 2 and "connect_failed" in err and time.time() - t0 < 30,
          "a dead server: exit 2 connect_failed, quickly: %d %s" % (rc, err))
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # never accepts: the request is sent, no answer comes
    try:
        t0 = time.time()
        rc, _, err = run("match", "--indicators",
                         "taxii:http://127.0.0.1:%d/api1/" % silent.getsockname()[1],
                         "--collection", "c", "--taxii-timeout", "2", "--input", paths[0])
        check(rc == 2 and "timeout" in err and time.time() - t0 < 30,
              "a silent server: exit 2 with a timeout, within the bound: %d %s" % (rc, err))
    finally:
        silent.close()


def test_taxii_source_tls():
    from test_taxii_client import make_cert
    with Hub(ARGS.ctihub, "match-taxii-tls") as hub:
        hub.setup()
        indicators, bundle, logs, paths = fixtures(hub.dir)
        hub.cli("import", "--collection", "shared", "--root", "api1", "--org", "acme", bundle)
        cert, key = make_cert(hub.dir, "right", "IP:127.0.0.1")
        hub.start("--tls-cert", cert, "--tls-key", key)
        url = "taxii:%s/api1/collections/%s/" % (hub.url, hub.collections["shared"])
        tok = hub.tokens["bob"] + "\n"
        rc, text, err = run("match", "--indicators", url, "--token-stdin", "--input", paths[0],
                            stdin=tok)
        check(rc == 2 and "tls_verify_failed" in err, "self-signed, no --ca-file: %d %s" % (rc, err))
        rc, text, err = run("match", "--indicators", url, "--token-stdin", "--ca-file", cert,
                            "--input", paths[0], stdin=tok)
        rc2, want, err2 = run("match", "--indicators", bundle, "--input", paths[0])
        check(rc == 0 and rc2 == 0, "--ca-file trusts it: %d %s" % (rc, err))
        compare(hits_of(text), hits_of(want), "taxii: over TLS")


def dns_line(t, query):
    return json.dumps({"ts": t, "uid": "C" + uuid.uuid4().hex[:8], "id.orig_h": "10.0.0.5",
                       "id.orig_p": 5000, "id.resp_h": "192.0.2.53", "id.resp_p": 53,
                       "_path": "dns", "query": query}) + "\n"


class Follower:
    """`ctihub match --follow` running; its hit lines arrive on a queue (read by a thread)."""

    def __init__(self, *args):
        self.err_path = args[-1]
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen([ARGS.ctihub] + list(args[:-1]), stdout=subprocess.PIPE,
                                     stderr=self.err)
        self.hits = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in iter(self.proc.stdout.readline, b""):
            self.hits.put(json.loads(line))

    def next_hits(self, n, what, timeout=20):
        """The next n hit lines, each within `timeout` seconds (bounded wait)."""
        got = []
        for _ in range(n):
            try:
                got.append(self.hits.get(timeout=timeout))
            except queue.Empty:
                break
        check(len(got) == n, "%s: %d hit lines arrive while it runs (got %d)" % (what, n, len(got)))
        return got

    def finish(self, timeout=30):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            check(False, "--follow did not stop by itself within %ds" % timeout)
        self.err.close()
        with open(self.err_path) as f:
            return rc, f.read()


def append(path, text):
    with open(path, "a") as f:
        f.write(text)
        f.flush()


def test_follow_rotation_truncation():
    with Hub(ARGS.ctihub, "match-follow") as hub:
        indicators, bundle, _, _ = fixtures(hub.dir)
        domain = indicators["domain"][0]["id"]
        log = os.path.join(hub.dir, "dns.log")
        with open(log, "w") as f:
            f.write(dns_line(T0, "clean.test") + dns_line(T0 + 1, "evil.example.com"))
        # Stops by itself 5 s after the last line (the test keeps lines coming faster than
        # that), and after 120 s whatever happens.
        fo = Follower("match", "--indicators", bundle, "--input", log, "--follow",
                      "--follow-idle", "5", "--follow-timeout", "120",
                      os.path.join(hub.dir, "follow.err"))
        lines = []  # (line, time) of the hits, in the order they must arrive

        def expect(n, what):
            got = fo.next_hits(n, what)
            for h in got:
                check(h["indicator_id"] == domain and h["file"] == log,
                      "%s: a hit of the domain indicator in the followed file: %s" % (what, h))
            return [(h["line"], h["time"]) for h in got]

        lines += expect(1, "what the file held at the start")
        append(log, dns_line(T0 + 2, "www.other.test") + dns_line(T0 + 3, "EVIL.example.com."))
        lines += expect(1, "an appended line")
        # A line written in two parts is read once it is complete.
        part = dns_line(T0 + 4, "evil.example.com")
        append(log, part[:30])
        time.sleep(0.5)
        append(log, part[30:])
        lines += expect(1, "a line completed later")
        # Rotation: one more line into the old file, renamed away, a new file in its place.
        append(log, dns_line(T0 + 5, "evil.example.com"))
        os.rename(log, log + ".1")
        with open(log, "w") as f:
            f.write(dns_line(T0 + 6, "quiet.test") + dns_line(T0 + 7, "evil.example.com"))
        lines += expect(2, "the rest of the rotated file, then the new one")
        append(log, dns_line(T0 + 8, "evil.example.com"))
        lines += expect(1, "appended to the new file")
        # Truncation (copytruncate): the file shrinks and is read again from its start.
        with open(log, "w") as f:
            f.write(dns_line(T0 + 9, "evil.example.com"))
        lines += expect(1, "after truncation")
        rc, err = fo.finish()
        want = [(2, rfc3339(T0 + 1)), (4, rfc3339(T0 + 3)), (5, rfc3339(T0 + 4)),
                (6, rfc3339(T0 + 5)), (2, rfc3339(T0 + 7)), (3, rfc3339(T0 + 8)),
                (1, rfc3339(T0 + 9))]
        check(lines == want, "hits in order, lines numbered within each file: %s" % lines)
        check(rc == 0, "stopped by itself with exit 0 (hits): %d %s" % (rc, err[-500:]))
        check(": 10 lines, 10 events, 7 hits, 0 malformed" in err,
              "the summary counts every line read: %s" % err[-600:])
        check("reopened 2 times" in err and "stopped by follow-idle" in err,
              "one rotation and one truncation, stopped by the idle limit: %s" % err[-300:])


def wait_for(what, predicate, timeout=15):
    """Polls predicate() (None: not yet) every 0.1 s for at most `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = predicate()
        if got is not None:
            return got
        time.sleep(0.1)
    check(False, "%s within %d s" % (what, timeout))


def test_follow_periodic_sightings():
    """A long-running follower emits its sightings while it runs (--sightings-every), not only
    at the end: the file is rewritten with the counts so far, and an update is a new version of
    the same sighting (same id and created, later modified) in the file and in the hub."""
    with Hub(ARGS.ctihub, "match-follow-sightings") as hub:
        hub.setup()
        indicators, bundle, _, _ = fixtures(hub.dir)
        domain = indicators["domain"][0]["id"]
        log = os.path.join(hub.dir, "dns.log")
        sightings = os.path.join(hub.dir, "sightings.json")
        with open(log, "w") as f:
            f.write(dns_line(T0, "clean.test") + dns_line(T0 + 1, "evil.example.com"))
        fo = Follower("match", "--data", hub.data, "--as-user", "alice", "--indicators", bundle,
                      "--input", log, "--follow", "--follow-idle", "6", "--follow-timeout", "90",
                      "--sightings", sightings, "--sightings-every", "1", "--report",
                      "--report-collection", "shared", "--root", "api1",
                      os.path.join(hub.dir, "sightings.err"))

        def sighting_with(count):
            """The domain's sighting in the file once its count is `count`, else None."""
            try:
                with open(sightings) as f:
                    objects = json.load(f)["objects"]
            except (OSError, ValueError):
                return None
            mine = [o for o in objects if o.get("sighting_of_ref") == domain]
            return mine[0] if len(objects) == 1 and mine and mine[0]["count"] == count else None

        fo.next_hits(1, "the hit already in the file")
        first = wait_for("the sightings file, count 1, while following", lambda: sighting_with(1))
        if first is None:
            fo.proc.kill()
            fo.finish()
            return
        check(first["last_seen"] == rfc3339(T0 + 1) and first["created"] == first["modified"],
              "the first version: %s" % first)
        rc, out, err = run("validate", sightings)
        check(rc == 0, "ctihub validate accepts the file written while following: %s %s"
              % (out, err))
        check(fo.proc.poll() is None, "the follower is still running")

        append(log, dns_line(T0 + 2, "evil.example.com") + dns_line(T0 + 3, "x.test") +
               dns_line(T0 + 4, "Evil.Example.Com."))
        fo.next_hits(2, "two appended hits")
        second = wait_for("the sightings file, count 3, while following", lambda: sighting_with(3))
        if second is None:
            fo.proc.kill()
            fo.finish()
            return
        check(second["id"] == first["id"] and second["created"] == first["created"] and
              second["modified"] > first["modified"] and second["last_seen"] == rfc3339(T0 + 4)
              and second["first_seen"] == rfc3339(T0 + 1),
              "the update is a new version of the same sighting: %s then %s" % (first, second))
        check(fo.proc.poll() is None, "the follower is still running after the update")

        rc, err = fo.finish()
        check(rc == 0 and "stopped by follow-idle" in err and
              "sightings updated 2 times while following" in err,
              "stopped by itself after two periodic updates: %d %s" % (rc, err[-600:]))
        final = sighting_with(3)
        check(final is not None and final["id"] == first["id"] and
              final["modified"] == second["modified"],
              "nothing changed after the last update: the end adds no version: %s" % final)
        check("reported 2 sightings to collection shared" in err,
              "both versions went to the hub: %s" % err[-400:])

        hub.start()
        stored, _ = hub.get_all("shared", "match[type]=sighting&match[version]=all")
        versions = sorted((s["modified"], s["count"]) for s in stored if s["id"] == first["id"])
        check(len(stored) == 2 and versions == [(first["modified"], 1), (second["modified"], 3)],
              "the hub holds the two versions of the one sighting: %s" % stored)


def test_follow_signal_and_refusals():
    with Hub(ARGS.ctihub, "match-follow-sig") as hub:
        indicators, bundle, _, paths = fixtures(hub.dir)
        log = os.path.join(hub.dir, "dns.log")
        with open(log, "w") as f:
            f.write(dns_line(T0 + 1, "evil.example.com"))
        for sig in (signal.SIGTERM, signal.SIGINT):
            fo = Follower("match", "--indicators", bundle, "--input", log, "--follow",
                          "--follow-timeout", "120", os.path.join(hub.dir, "sig.err"))
            fo.next_hits(1, "before the signal")
            fo.proc.send_signal(sig)
            rc, err = fo.finish(timeout=20)
            check(rc == 0 and ": 1 lines, 1 events, 1 hits," in err and "stopped by signal" in err,
                  "signal %d: a clean stop with the summary: %d %s" % (sig, rc, err[-400:]))
        # An empty file at first: the format comes from the first line that arrives; no hit.
        empty = os.path.join(hub.dir, "empty.log")
        open(empty, "w").close()
        fo = Follower("match", "--indicators", bundle, "--input", empty, "--follow",
                      "--follow-timeout", "3", os.path.join(hub.dir, "empty.err"))
        time.sleep(0.5)
        append(empty, "\n" + dns_line(T0, "clean.test"))
        rc, err = fo.finish()
        check(rc == 1 and ": 2 lines, 1 events, 0 hits, 0 malformed" in err and
              "stopped by follow-timeout" in err,
              "a blank line, then one event detected as Zeek JSON, no hit: exit 1 at the "
              "timeout: %d %s" % (rc, err[-400:]))
        for args, needle in [(["--input", "-"], "stdin"),
                             (["--input", paths[1]], "gzip"),  # dns.log.gz
                             (["--input", log, log], "exactly one"),
                             (["--input", hub.dir], "not a regular file"),
                             (["--input", os.path.join(hub.dir, "nope.log")], "nope.log"),
                             (["--input", log, "--threads", "2"], "--threads"),
                             (["--input", log, "--sightings-every", "5"], "--sightings-every"),
                             (["--input", log, "--sightings-every", "-1", "--sightings",
                               os.path.join(hub.dir, "s.json")], "--sightings-every")]:
            rc, _, err = run("match", "--indicators", bundle, "--follow", "--follow-timeout", "5",
                             *args, stdin="")
            check(rc == 2 and needle in err, "--follow %s refused: %d %s" % (args, rc, err))
        rc, _, err = run("match", "--indicators", bundle, "--input", log, "--follow-idle", "3")
        check(rc == 2 and "--follow" in err, "--follow-idle without --follow: %s" % err)
        rc, _, err = run("match", "--indicators", bundle, "--input", log, "--sightings-every", "3",
                         "--sightings", os.path.join(hub.dir, "s.json"))
        check(rc == 2 and "--follow" in err, "--sightings-every without --follow: %s" % err)


if __name__ == "__main__":
    ARGS = parse_args()
    sys.exit(run_tests([test_bundle_source_exact_hits, test_bad_input,
                        test_collection_source_policy_and_sightings, test_threads_same_output,
                        test_taxii_source, test_taxii_source_tls, test_follow_rotation_truncation,
                        test_follow_periodic_sightings, test_follow_signal_and_refusals]))
