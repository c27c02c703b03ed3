#!/usr/bin/env python3
"""End to end: `ctihub agreement add ... --dry-run` on the documented example
(docs/examples/vendor-police, built by vendor_police.py).

The README's bilateral agreement ipo-to-unit-fr-op-x (IPO -> unit-fr,
AMBER+STRICT, indicators and reports) looks like a channel for the IPO's own
objects, but the vendor's agreement lets the IPO re-share: the dry run must
count exactly what unit-fr would newly see (the latest version of each stored
object, by type and TLP) and name the re-share chain it opens. Nothing may
change: the data directory's files are byte-identical afterwards (so no audit
record either: CLI reads are not audited). Then the real `agreement add` does
what the dry run said, checked with `policy explain`. Every decision is made
--at a fixed time inside the example's agreement windows.
"""
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub import Hub, check, parse_args, run_tests  # noqa: E402
import vendor_police as vp  # noqa: E402

ARGS = parse_args()
HUB = None
# The README's example, as written there.
OP_X = ["agreement", "add", "--id", "ipo-to-unit-fr-op-x", "--producer", "org:ipo",
        "--recipient", "org:unit-fr", "--max-tlp", "amber+strict", "--types", "indicator,report",
        "--legal-basis", "Operation X, art. 3", "--expires", "2026-12-31T00:00:00Z"]


def snapshot():
    """{relative path: sha256} of every file of the data directory (SQLite's
    shared-memory index aside: it is not data)."""
    out = {}
    for root, _, files in os.walk(HUB.data):
        for name in files:
            if name.endswith("-shm"):
                continue
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, HUB.data)] = hashlib.sha256(f.read()).hexdigest()
    return out


def dry_run(args, json_out=True):
    extra = ["--dry-run", "--at", vp.AT] + (["--json"] if json_out else [])
    return vp.run(ARGS.ctihub, HUB.data, *(args + extra))


def test_op_x_counts_exactly():
    before = snapshot()
    rc, out, err = dry_run(OP_X)
    check(rc == 0, "dry run exits 0: %d %s" % (rc, err))
    check(snapshot() == before, "nothing in the data directory changed")
    check(not os.path.exists(os.path.join(HUB.data, "agreements.toml")), "no agreements.toml")
    r = json.loads(out)
    check(r["dry_run"] is True and r["agreement"]["id"] == "ipo-to-unit-fr-op-x", "header: %r" % r)
    check(r["at"] == vp.AT_PRINTED and r["objects"] == 12 and r["collections"] == 1, "counted: %r" % r)
    check(r["counted"] == "latest version of each object in each collection", "which: %r" % r)
    orgs = {o["org"]: o for o in r["organisations"]}
    check(list(orgs) == ["unit-fr"], "only unit-fr's view changes: %r" % list(orgs))
    fr = orgs.get("unit-fr", {})
    check((fr.get("newly_served"), fr.get("newly_served_redacted"), fr.get("now_served_in_full"),
           fr.get("other_changes"), fr.get("same_copy_other_grant")) == (4, 1, 0, 0, 2),
          "unit-fr totals: %r" % fr)
    rows = {(t["type"], t["tlp"]): (t["newly_served"], t["newly_served_redacted"],
                                    t["same_copy_other_grant"]) for t in fr.get("by_type_tlp", [])}
    check(rows == {("indicator", "amber"): (2, 1, 0), ("report", "amber"): (1, 0, 0),
                   ("report", "amber+strict"): (1, 0, 0), ("indicator", "green"): (0, 0, 2)},
          "by type and TLP: %r" % rows)
    grants = {g["grant"]: g["objects"] for g in fr.get("by_grant", [])}
    check(grants == {"agreement:ipo-to-unit-fr-op-x": 1,
                     "reshare:secvendor-to-ipo>ipo-to-unit-fr-op-x": 4}, "by grant: %r" % grants)
    check(r["reshare_chains_opened"] == [{
        "grant": "reshare:secvendor-to-ipo>ipo-to-unit-fr-op-x", "producer_org": "secvendor",
        "through": "org:ipo", "reader_org": "unit-fr", "max_tlp": "amber",
        "object_types": ["indicator", "report"]}], "chain: %r" % r["reshare_chains_opened"])


def test_op_x_text():
    before = snapshot()
    rc, out, err = dry_run(OP_X, json_out=False)
    check(rc == 0 and snapshot() == before, "text dry run changes nothing: %d %s" % (rc, err))
    for line in ["nothing was changed",
                 "org:unit-fr would newly see 5 objects (4 as is, 1 redacted)",
                 "reshare:secvendor-to-ipo>ipo-to-unit-fr-op-x: org:secvendor's objects reach "
                 "org:unit-fr through org:ipo, up to TLP:AMBER, indicator, report"]:
        check(line in out, "text has %r:\n%s" % (line, out))


def test_nothing_new():
    # CLEAR is every reader's already: nothing changes, no chain opens.
    rc, out, err = dry_run(["agreement", "add", "--id", "clear-only", "--producer", "org:secvendor",
                            "--recipient", "org:unit-es", "--max-tlp", "clear", "--types", "*",
                            "--legal-basis", "test"])
    r = json.loads(out) if rc == 0 else {}
    check(rc == 0 and r.get("organisations") == [] and r.get("reshare_chains_opened") == [],
          "nothing new: %d %r %s" % (rc, r, err))


def test_refusals_change_nothing():
    before = snapshot()
    for args, want in [
            (["--id", "x", "--producer", "org:ipo", "--recipient", "org:nobody"], "unknown org:nobody"),
            (["--id", "secvendor-to-ipo", "--producer", "org:ipo", "--recipient", "org:unit-fr"],
             "already defined"),
            (["--id", "x", "--producer", "ipo", "--recipient", "org:unit-fr"], "--producer")]:
        rc, out, err = dry_run(["agreement", "add"] + args + ["--max-tlp", "amber", "--types", "*",
                                                             "--legal-basis", "t"])
        check(rc == 2 and want in err, "%r refused with %r: %d %r" % (args, want, rc, err))
    check(snapshot() == before, "refusals change nothing")


def test_real_add_does_what_the_dry_run_said():
    rc, out, err = vp.run(ARGS.ctihub, HUB.data, *OP_X)
    check(rc == 0, "agreement add: %d %s" % (rc, err))
    for oid, decision, via in [
            (vp.AMBER_2, "served", "reshare:secvendor-to-ipo>ipo-to-unit-fr-op-x"),
            (vp.PERSONAL, "served-redacted", "reshare:secvendor-to-ipo>ipo-to-unit-fr-op-x"),
            (vp.IPO_REPORT, "served", "agreement:ipo-to-unit-fr-op-x"),
            (vp.MALWARE, "withheld", "type-not-in-agreement")]:
        rc, out, err = vp.run(ARGS.ctihub, HUB.data, "policy", "explain", "--json", "--org",
                              "unit-fr", "--object", oid, "--at", vp.AT)
        r = json.loads(out)["results"][0] if rc == 0 else {}
        check((r.get("decision"), r.get("decided_by")) == (decision, via),
              "%s after the add: %r %s" % (oid, r.get("decided_by"), err))
    # Now it is part of the policy: the same dry run is refused.
    rc, out, err = dry_run(OP_X)
    check(rc == 2 and "already defined" in err, "second dry run refused: %d %r" % (rc, err))


def main():
    global HUB
    with Hub(ARGS.ctihub, name="dryrun") as hub:
        HUB = hub
        vp.build(hub)
        return run_tests([test_op_x_counts_exactly, test_op_x_text, test_nothing_new,
                          test_refusals_change_nothing, test_real_add_does_what_the_dry_run_said])


if __name__ == "__main__":
    sys.exit(main())
