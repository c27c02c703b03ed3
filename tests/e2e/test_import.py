#!/usr/bin/env python3
"""End to end: `ctihub import` (and its alias `load-bundle`).

Free text, CSV and STIX 2.1 (files, directories, .gz, stdin) into a fresh hub's
default `imports` collection and into a named one with --org; re-import stores
nothing new; bad input is reported with file/line/object and reason while the
rest imports, with exit codes 0/1/2; --tlp marks unmarked objects; objects go
through the TAXII write path (producer rules, visible over TAXII) and every
stored version is in the audit trail.
"""
import gzip
import json
import os
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub import Hub, check, indicator, malware, parse_args, run_tests  # noqa: E402

ARGS = parse_args()
TLP_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"


def run(hub, *args, stdin=None):
    """(returncode, stdout, stderr) of `ctihub ARGS --data DIR`."""
    rc, out, err = hub.run_cli(*args, stdin=stdin)
    return rc, out.strip(), err.strip()


def import_json(hub, *args, stdin=None):
    rc, out, err = run(hub, "import", "--json", *args, stdin=stdin)
    try:
        return rc, json.loads(out), err
    except ValueError:
        check(False, "import --json prints one JSON object (rc %d): %r %r" % (rc, out, err))
        return rc, {}, err


def write(hub, name, text, gz=False):
    path = os.path.join(hub.dir, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if gz:
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        with open(path, "w") as f:
            f.write(text)
    return path


def test_text_into_fresh_hub_and_reimport():
    with Hub(ARGS.ctihub, "import-text") as hub:
        hub.cli("init")
        path = write(hub, "report.txt",
                     "C2 at hxxp://evil-c2[.]com/gate.php and 203.0.113[.]7\n"
                     "dropper readme.txt (not a domain), CVE-2021-44228\n")
        rc, s, err = import_json(hub, path)
        check(rc == 0, "text import exits 0 (%d): %s" % (rc, err))
        # url + indicator, ipv4 + indicator, vulnerability
        check(s.get("read") == 5 and s.get("stored") == 5 and s.get("rejected") == 0,
              "text import stores 5 objects: %s" % s)
        check(s.get("api_root") == "default", "default API root: %s" % s)
        check("created collection" in err and "imports" in err, "collection creation printed: %s" % err)
        check("only admins can read them" in err, "warning about objects no user can read: %s" % err)
        cols = json.loads(hub.cli("collection", "list", "--json"))
        imports = [c for c in cols if c.get("alias") == "imports"]
        check(len(imports) == 1 and imports[0]["readers"] == [] and imports[0]["writers"] == [],
              "imports collection exists, admins only: %s" % cols)
        rc, again, err = import_json(hub, path)
        check(rc == 0 and again.get("stored") == 0 and again.get("already_present") == 5,
              "re-import stores nothing new: %s %s" % (again, err))
        rc, out, err = run(hub, "audit", "verify")
        check(rc == 0, "audit verify after import: %s %s" % (out, err))


def test_repeats_across_batches_in_flight_are_stored_once():
    """Batches of 1,000 objects go to the store before the previous ones are
    committed: a value repeated two batches later (its first batch possibly
    still in flight) is already present, never a second version."""
    with Hub(ARGS.ctihub, "import-inflight") as hub:
        hub.cli("init")
        lines = ["seen at 10.7.%d.%d" % (k % 1000 // 256, k % 1000 % 256) for k in range(4000)]
        path = write(hub, "feed.txt", "\n".join(lines) + "\n")
        rc, s, err = import_json(hub, path)
        # 1,000 addresses, each an SCO and an indicator; 1,000 lines per two batches.
        check(rc == 0 and s.get("read") == 8000 and s.get("stored") == 2000 and
              s.get("already_present") == 6000, "each address stored once: %s %s" % (s, err))
        rc, out, err = run(hub, "audit", "verify")
        check(rc == 0, "audit verify after import: %s %s" % (out, err))


def test_stix_with_org_through_write_path():
    with Hub(ARGS.ctihub, "import-stix") as hub:
        hub.setup()
        acme_identity = [o for o in json.loads(hub.cli("org", "list", "--json"))
                         if o["name"] == "acme"][0]["identity_id"]
        good = indicator(1)
        foreign = indicator(2)
        foreign["created_by_ref"] = "identity--" + str(uuid.uuid4())
        bad = malware("broken")
        del bad["name"]
        del bad["is_family"]
        bundle = {"type": "bundle", "id": "bundle--" + str(uuid.uuid4()),
                  "objects": [good, foreign, bad, malware("ok")]}
        path = write(hub, "in/bundle.json", json.dumps(bundle))
        rc, s, err = import_json(hub, "--collection", "shared", "--org", "acme", path)
        check(rc == 1, "a bundle with rejected objects exits 1 (%d): %s" % (rc, err))
        check(s.get("stored") == 2 and s.get("rejected") == 2, "2 stored, 2 rejected: %s" % s)
        check(s.get("rejected_by_reason") == {"producer_not_allowed": 1, "invalid STIX": 1},
              "refusals counted by reason: %s" % s.get("rejected_by_reason"))
        reasons = {r.get("object"): r.get("reason", "") for r in s.get("rejections", [])}
        check("producer_not_allowed" in reasons.get(foreign["id"], ""),
              "foreign producer refused by the producer rules: %s" % reasons)
        check(bad["id"] in reasons and all(r.get("file") == path for r in s["rejections"]),
              "invalid object reported with its id and file: %s" % s["rejections"])
        check(any(r.get("position") == "object 3 at byte %d" % json.dumps(bundle).index(json.dumps(bad))
                  for r in s["rejections"]), "and its position in the file: %s" % s["rejections"])
        hub.start()
        got, _ = hub.get_all(hub.collections["shared"], user="alice")
        ids = {o["id"]: o for o in got}
        check(good["id"] in ids and ids[good["id"]].get("created_by_ref") == acme_identity,
              "imported object readable over TAXII with acme as producer")
        check(foreign["id"] not in ids and bad["id"] not in ids, "rejected objects not stored")
        hub.stop()
        rc, out, err = run(hub, "audit", "show", "--json", "--object", good["id"])
        check(rc == 0 and "object.written" in out and "cli import" in out,
              "the import is in the audit trail: %s %s" % (out[:300], err))


def test_single_object_array_and_alias():
    with Hub(ARGS.ctihub, "import-shapes") as hub:
        hub.setup()
        one = write(hub, "one.json", json.dumps(malware("single")))
        arr = write(hub, "arr.json", json.dumps([malware("a"), malware("b")]))
        rc, s, err = import_json(hub, "--collection", "shared", "--org", "acme", one, arr)
        check(rc == 0 and s.get("stored") == 3, "single object and array stored (%d): %s %s" % (rc, s, err))
        empty = write(hub, "empty.json", "{}")
        rc, s, err = import_json(hub, "--collection", "shared", empty)
        check(rc == 1 and s.get("stored") == 0 and s.get("rejected") == 1,
              "{} is a rejected object, exit 1 (%d): %s" % (rc, s))
        rc, out, err = run(hub, "load-bundle", "--collection", "shared", "--org", "acme", arr)
        check(rc == 0 and "already present 2" in out, "load-bundle is an alias of import: %s %s" % (out, err))


def test_csv_gz_stdin_and_markings():
    with Hub(ARGS.ctihub, "import-csv") as hub:
        hub.cli("init")
        csv = ("first_seen,ip,note\n"
               "2024-01-01,198.51.100.9,\"c2, port 443\"\n"
               "2024-01-02,not-an-ip,oops\n"
               "2024-01-03,,empty cell\n")
        path = write(hub, "feed.csv.gz", csv, gz=True)
        rc, s, err = import_json(hub, "--csv-map", "ip=ipv4-addr:value", "--tlp", "green", path)
        check(rc == 1, "CSV with a bad cell exits 1 (%d): %s" % (rc, err))
        check(s.get("stored") == 2 and s.get("rejected") == 1, "one row stored as SCO + indicator: %s" % s)
        rej = s.get("rejections", [{}])[0]
        check(rej.get("line") == 3 and "column ip" in rej.get("reason", ""),
              "bad cell reported with its line and column: %s" % rej)
        rc, s, err = import_json(hub, "--format", "text", "-", stdin="evil.example.com\n")
        check(rc == 0 and s.get("stored") == 2, "stdin text import (%d): %s %s" % (rc, s, err))
        # The TLP marking was added to the unmarked imported objects.
        out = hub.sql("SELECT json FROM objects")
        check(out.count(TLP_GREEN) == 2, "--tlp green marks the CSV objects: %s" % out[:400])


def test_stix20_is_upgraded_and_validates():
    with Hub(ARGS.ctihub, "import-stix20") as hub:
        hub.cli("init")
        tlp1_amber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
        bundle = {"type": "bundle", "id": "bundle--" + str(uuid.uuid4()), "spec_version": "2.0", "objects": [
            {"type": "indicator", "id": "indicator--" + str(uuid.uuid4()), "labels": ["malicious-activity"],
             "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z",
             "pattern": "[ipv4-addr:value = '198.51.100.1']", "valid_from": "2016-01-01T00:00:00Z",
             "object_marking_refs": [tlp1_amber]},
            {"type": "observed-data", "id": "observed-data--" + str(uuid.uuid4()),
             "created": "2016-04-06T19:58:16.000Z", "modified": "2016-04-06T19:58:16.000Z",
             "first_observed": "2015-12-21T19:00:00Z", "last_observed": "2015-12-21T19:00:00Z",
             "number_observed": 1,
             "objects": {"0": {"type": "ipv4-addr", "value": "198.51.100.3"},
                         "1": {"type": "network-traffic", "src_ref": "0", "protocols": ["tcp"]}}},
            {"type": "malware", "id": "malware--" + str(uuid.uuid4()), "name": "x", "labels": ["trojan"],
             "created": "2016-04-06T20:07:09.000Z", "modified": "2016-04-06T20:07:09.000Z"},
            {"type": "observed-data", "id": "observed-data--" + str(uuid.uuid4()),
             "created": "2016-04-06T19:58:16.000Z", "modified": "2016-04-06T19:58:16.000Z",
             "first_observed": "2015-12-21T19:00:00Z", "last_observed": "2015-12-21T19:00:00Z",
             "number_observed": 1, "objects": {"0": {"type": "network-traffic", "src_ref": "7"}}},
        ]}
        path = write(hub, "old.json", json.dumps(bundle))
        rc, s, err = import_json(hub, path)
        check(rc == 1, "one dangling observable reference: exit 1 (%d): %s" % (rc, err))
        # indicator, 2 SCOs + observed-data, malware
        check(s.get("stored") == 5 and s.get("rejected") == 1, "2.0 bundle upgraded and stored: %s" % s)
        rej = s.get("rejections", [{}])[0]
        check(rej.get("object") == bundle["objects"][3]["id"] and "dangling" in rej.get("reason", ""),
              "the observed-data that cannot be upgraded is named: %s" % rej)
        out = hub.sql("SELECT json FROM objects")
        stored = [json.loads(line) for line in out.splitlines() if line.strip()]
        check(all(o.get("spec_version") == "2.1" for o in stored), "all stored objects are 2.1")
        check(tlp1_amber not in out and "55d920b0-5e8b-4f79-9ee9-91f868d9b421" in out,
              "TLP 1.0 AMBER became TLP 2.0 AMBER")
        arr = write(hub, "stored.json", json.dumps(stored))
        v = subprocess.run([ARGS.ctihub, "validate", arr], capture_output=True, text=True, timeout=60)
        rc, vout, verr = v.returncode, v.stdout, v.stderr
        check(rc == 0, "the upgraded objects pass ctihub validate (%d): %s %s" % (rc, vout[:500], verr[:500]))


def misp_event(n, to_ids=True):
    return {"Event": {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, "e2e-misp-%d" % n)), "info": "event %d" % n,
        "timestamp": "1700000000", "Tag": [{"name": "tlp:green"}],
        "Attribute": [{"uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, "e2e-attr-%d" % n)), "type": "ip-dst",
                       "value": "203.0.113.%d" % n, "to_ids": to_ids, "timestamp": "1700000000"},
                      {"uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, "e2e-text-%d" % n)), "type": "text",
                       "value": "notes"}],
        "Galaxy": [{"type": "mitre-malware", "GalaxyCluster": [
            {"uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, "e2e-gc")), "value": "ExampleRAT"}]}]}}


def test_misp_events_and_feed_directory():
    with Hub(ARGS.ctihub, "import-misp") as hub:
        hub.cli("init")
        feed = os.path.join(hub.dir, "feed")
        write(hub, "feed/manifest.json", json.dumps({"x": {"info": "index, not an event"}}))
        write(hub, "feed/hashes.csv", "abc,def\n")
        write(hub, "feed/one.json", json.dumps(misp_event(1)))
        write(hub, "feed/two.json", json.dumps([misp_event(2), misp_event(3, to_ids=False)]))
        rc, s, err = import_json(hub, feed)
        # per event: report, ipv4-addr, malware (+ indicator and relationship when to_ids)
        check(rc == 1, "unsupported 'text' attributes are reported: exit 1 (%d): %s" % (rc, err))
        check(s.get("rejected") == 3 and all("unsupported_attribute_type" in r["reason"]
                                             for r in s.get("rejections", [])),
              "only the text attributes are rejected, manifest.json and hashes.csv skipped: %s" % s)
        check(s.get("read") == 13 and s.get("stored") == 11 and s.get("already_present") == 2,
              "3 events stored (the shared galaxy SDO once): %s" % s)
        out = hub.sql("SELECT json FROM objects WHERE type = 'report'")
        reports = [json.loads(line) for line in out.splitlines() if line.strip()]
        check(len(reports) == 3 and all(len(r["object_refs"]) >= 2 for r in reports),
              "one report per event, naming its objects: %s" % out[:300])
        rc, again, err = import_json(hub, feed)
        check(again.get("stored") == 0, "re-importing the feed stores nothing new: %s" % again)


def test_misp_event_larger_than_a_query():
    """A MISP event is one group, so one batch whatever its size; its
    existence check asked the store for more ids than one query may name and
    the import stopped (too_many_filter_values) past ~1,000 attributes."""
    with Hub(ARGS.ctihub, "import-misp-large") as hub:
        hub.cli("init")
        attrs = [{"uuid": "%08x-0a8c-4b7e-9a3e-1f2d3c4b5a60" % k, "type": "ip-dst",
                  "value": "10.9.%d.%d" % (k // 256, k % 256), "to_ids": False}
                 for k in range(1100)]
        event = {"Event": {"uuid": "5e1b5d4c-0a8c-4b7e-9a3e-1f2d3c4b5a70", "info": "large",
                           "timestamp": "1700000000", "Attribute": attrs}}
        path = write(hub, "large-event.json", json.dumps(event))
        rc, s, err = import_json(hub, "--format", "misp", path)
        check(rc == 0 and s.get("stored") == 1101 and s.get("rejected") == 0,
              "1,100 addresses and the report stored: %s %s" % (s, err))
        rc, again, err = import_json(hub, "--format", "misp", path)
        check(rc == 0 and again.get("stored") == 0 and again.get("already_present") == 1101,
              "re-import stores nothing new: %s %s" % (again, err))


def test_deep_object_does_not_stop_the_import():
    """Regression: an object that parses alone (depth 63 of 64) but not inside the batch's
    envelope (two levels deeper) stopped the whole import with exit 2."""
    with Hub(ARGS.ctihub, "import-deep") as hub:
        hub.cli("init")
        deep = malware("deep")
        nest = "leaf"
        for _ in range(62):
            nest = {"a": nest}
        deep["x_deep"] = nest
        path = write(hub, "deep.json", json.dumps([malware("before"), deep, malware("after")]))
        rc, s, err = import_json(hub, path)
        check(rc == 1, "the deep object is rejected, the import goes on: exit 1 (%d): %s" % (rc, err))
        check(s.get("stored") == 2 and s.get("rejected") == 1,
              "the other objects of its batch are stored: %s" % s)


def test_nothing_readable_exits_2():
    with Hub(ARGS.ctihub, "import-bad") as hub:
        hub.cli("init")
        rc, out, err = run(hub, "import", os.path.join(hub.dir, "missing.txt"))
        check(rc == 2 and "missing.txt" in err, "unreadable input exits 2 (%d): %s" % (rc, err))
        rc, out, err = run(hub, "import", "--tlp", "purple", os.path.join(hub.dir, "x"))
        check(rc == 2 and "--tlp" in err, "bad --tlp exits 2 (%d): %s" % (rc, err))
        txt = write(hub, "x.txt", "evil.com\n")
        rc, out, err = run(hub, "import", "--root", "api1", txt)
        check(rc == 2 and "--root" in err, "--root without --collection is refused (%d): %s" % (rc, err))
        csv = write(hub, "x.csv", "a,b\n1,2\n")
        rc, out, err = run(hub, "import", csv)
        check(rc == 2 and "--csv-map" in err, "CSV without --csv-map is refused (%d): %s" % (rc, err))


if __name__ == "__main__":
    sys.exit(run_tests([test_text_into_fresh_hub_and_reimport,
                        test_repeats_across_batches_in_flight_are_stored_once,
                        test_stix_with_org_through_write_path,
                        test_single_object_array_and_alias, test_csv_gz_stdin_and_markings,
                        test_stix20_is_upgraded_and_validates, test_misp_events_and_feed_directory,
                        test_misp_event_larger_than_a_query,
                        test_deep_object_does_not_stop_the_import,
                        test_nothing_readable_exits_2]))
