#!/usr/bin/env python3
"""End to end, issue 12 items 4 and 9.

Item 4: an organisation's auditor reads its own organisation's users' records
and, of other organisations' users, the records naming objects its
organisation may read (decided like a read): never a record about a RED object
of another organisation, which is absent exactly as if it did not exist. The
hub-wide auditor is a separate role and reads everything.

Item 9: every served copy's record carries its grant and whether it was
redacted (GET /api/v1/audit, `audit show`, `audit who-saw`); a DELETE is
recorded against each deleted version (`audit show --object`); `audit show`
and the API page newest first and say when there is more."""
import json
import os
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub import Hub, check, indicator, parse_args, run_tests  # noqa: E402

ARGS = parse_args()
TLP_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
TLP_RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"


def add_user(hub, user, org, role):
    pw = "pw-" + user + "-" + uuid.uuid4().hex[:8]
    hub.cli("user", "add", user, "--org", org, "--role", role, "--password-stdin", stdin=pw + "\n")
    hub.passwords[user] = pw
    hub.tokens[user] = hub.cli("token", "create", "--user", user, "--label", "e2e")


def audit_get(hub, user, query="limit=1000"):
    r = hub.get("/api/v1/audit?" + query, user=user, accept="application/json")
    return r


def records(hub, user, query="limit=1000"):
    r = audit_get(hub, user, query)
    return r.status, (r.json()["records"] if r.status == 200 else [])


def marked(n, marking):
    obj = indicator(n)
    obj["object_marking_refs"] = [marking]
    return obj


def cli(hub, *args):
    r = subprocess.run([ARGS.ctihub] + list(args) + ["--data", hub.data], capture_output=True,
                       text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def test_auditors_see_their_organisation_and_objects_it_may_read():
    with Hub(ARGS.ctihub, "audit-scope") as hub:
        hub.setup()
        add_user(hub, "acmeaud", "acme", "auditor")
        add_user(hub, "otheraud", "other", "auditor")
        add_user(hub, "hubaud", "acme", "hub-auditor")
        hub.start()
        private = indicator(1)
        clear = marked(2, TLP_CLEAR)
        red = marked(3, TLP_RED)
        hub.post_and_wait("acme", [private])           # acme only
        hub.post_and_wait("shared", [clear])
        hub.post_and_wait("shared", [red])             # acme's RED: other may not read it
        hub.get_all("shared", user="olga")             # other reads the shared collection
        hub.get_all("acme", user="bob")
        r = hub.get(hub.objects_path("shared", clear["id"] + "/"), user="bob")
        check(r.status == 200, "bob reads the CLEAR object (%d)" % r.status)

        status, acme = records(hub, "acmeaud")
        check(status == 200 and acme, "an auditor reads its organisation's records (%d)" % status)
        check(all(r["org"] == "acme" or r["objects"] for r in acme),
              "of other's records, acme's auditor sees only those naming objects acme may read")
        check(any(r["user"] == "olga" and any(o["id"] == clear["id"] for o in r["objects"])
                  for r in acme),
              "acme's auditor sees olga's read of acme's CLEAR object")
        check(any(r["user"] == "bob" for r in acme), "acme's auditor sees bob's reads")

        # other's auditor: its own records, and acme's records about the CLEAR object.
        before = audit_get(hub, "otheraud", "user=bob&limit=1000")
        r = hub.get(hub.objects_path("shared", red["id"] + "/"), user="bob")  # names only RED
        check(r.status == 200, "bob reads acme's RED object (%d)" % r.status)
        after = audit_get(hub, "otheraud", "user=bob&limit=1000")
        check(before.status == 200 and before.body == after.body,
              "a record about a RED object other may not read is absent, as if it did not exist")
        status, other = records(hub, "otheraud")
        body = json.dumps(other)
        check(status == 200 and any(r["org"] == "other" for r in other),
              "other's auditor reads other's records")
        check(any(r["user"] == "bob" and any(o["id"] == clear["id"] for o in r["objects"])
                  for r in other),
              "other's auditor sees acme's user's records about a CLEAR object it may read")
        check(any(r["user"] == "alice" and r["action"] == "object.written" for r in other),
              "other's auditor sees the write of the CLEAR object")
        check(red["id"] not in body and private["id"] not in body,
              "other's auditor never sees the id of an object its organisation may not read")
        check(all(r["org"] == "other" or r["objects"] for r in other),
              "of acme's records, only those naming readable objects are shown")
        foreign = [r for r in other if r["org"] != "other"]
        check(foreign and all(r["hash"] == "" and r["remote"] == "" and "?" not in r["route"]
                              and all("grant" not in o for o in r["objects"]) for r in foreign),
              "acme's records are shown without address, query, grants or hashes")
        red_answer = audit_get(hub, "otheraud", "object=" + red["id"])
        none_answer = audit_get(hub, "otheraud", "object=indicator--" + str(uuid.uuid4()))
        check(red_answer.status == 200 and red_answer.body == none_answer.body,
              "asking about the RED object answers exactly like asking about no object: %r %r"
              % (red_answer.body[:200], none_answer.body[:200]))
        status, _ = records(hub, "bob")
        check(status == 403, "a reader may not read the trail (got %d)" % status)
        status, everything = records(hub, "hubaud")
        orgs = {r["org"] for r in everything}
        check(status == 200 and {"acme", "other"} <= orgs,
              "the hub-auditor reads every organisation's records: %r" % sorted(orgs))
        check(any(o["id"] == red["id"] for r in everything for o in r["objects"]),
              "the hub-auditor sees the records about the RED object")

        # Item 9: the grant of every served copy.
        served = [r for r in everything if r["action"] == "object.served"]
        check(served and all(o.get("grant") and "redacted" in o for r in served
                             for o in r["objects"]),
              "every served copy names its grant and whether it was redacted: %r"
              % [r["objects"][:2] for r in served][:3])
        bobs = [o for r in served if r["user"] == "bob" for o in r["objects"]]
        check(bobs and all(o["grant"] == "own" and o["redacted"] is False for o in bobs),
              "bob's copies of acme's objects were granted as its own: %r" % bobs[:3])
        olgas = [o for r in served if r["user"] == "olga" for o in r["objects"]]
        check(olgas and all(o["grant"] not in ("", "own") for o in olgas),
              "olga's copies name the grant that let other read them: %r" % olgas[:3])

        # API paging: newest first; next continues with before=.
        r = audit_get(hub, "hubaud", "limit=2")
        page1 = r.json()
        check(page1["order"] == "newest-first" and page1["more"] and len(page1["records"]) == 2
              and page1["records"][0]["seq"] > page1["records"][1]["seq"],
              "the API pages newest first: %r" % {k: page1[k] for k in ("order", "more")})
        page2 = audit_get(hub, "hubaud", "limit=2&before=" + page1["next"]).json()
        check(page2["records"] and page2["records"][0]["seq"] < page1["records"][1]["seq"],
              "before=next continues with older records")
        asc = audit_get(hub, "hubaud", "limit=2&after=0").json()
        check(asc["order"] == "oldest-first" and asc["records"][0]["seq"] == 1,
              "after= reads oldest first")

        # Item 9: a DELETE is recorded against the deleted version.
        r = hub.request("DELETE", hub.objects_path("shared", clear["id"] + "/"), user="alice")
        check(r.status == 200, "alice deletes the CLEAR object (%d %s)" % (r.status, r.body[:200]))
        hub.stop()

        rc, out, err = cli(hub, "audit", "show", "--json", "--object", clear["id"],
                           "--action", "object.deleted")
        deleted = json.loads(out) if rc == 0 else []
        check(len(deleted) == 1 and deleted[0]["user"] == "alice"
              and deleted[0]["objects"] == [{"id": clear["id"], "version": clear["modified"]}],
              "audit show --object lists the deletion of its version: %r %s" % (deleted, err))
        rc, out, err = cli(hub, "audit", "show", "--object", clear["id"])
        check(rc == 0 and "object.deleted" in out, "the deletion is in audit show --object")

        rc, out, err = cli(hub, "audit", "who-saw", clear["id"], "--json")
        saw = json.loads(out) if rc == 0 else []
        check(saw and all(v.get("grant") for v in saw) and
              any(v["user"] == "bob" and v["grant"] == "own" for v in saw),
              "who-saw names each copy's grant: %r" % saw[:3])

        # audit show: newest first, says when it truncates and how to continue.
        rc, out, err = cli(hub, "audit", "show", "--limit", "3")
        lines = out.strip().splitlines()
        seqs = [int(line.split()[0]) for line in lines]
        check(rc == 0 and len(seqs) == 3 and seqs == sorted(seqs, reverse=True),
              "audit show lists the newest records first: %r" % seqs)
        check("showing 3 of " in err and "more with --before %d" % seqs[-1] in err,
              "audit show says it truncated and how to go on: %r" % err)
        rc, out2, err2 = cli(hub, "audit", "show", "--limit", "3", "--before", str(seqs[-1]))
        seqs2 = [int(line.split()[0]) for line in out2.strip().splitlines()]
        check(rc == 0 and seqs2 and max(seqs2) < seqs[-1], "--before continues with older records")
        rc, out, err = cli(hub, "audit", "verify")
        check(rc == 0 and out.startswith("intact"),
              "the trail with grants and deletions verifies: %s %s" % (out, err))


if __name__ == "__main__":
    sys.exit(run_tests([test_auditors_see_their_organisation_and_objects_it_may_read]))
