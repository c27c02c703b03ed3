#!/usr/bin/env python3
"""End to end, issue 12 item 4: an organisation's auditor reads only the audit
records of its own organisation's users over GET /api/v1/audit (other
organisations' records name objects its readers may not see); asking for
another organisation is 403; the hub-wide auditor is a separate role."""
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub import Hub, check, indicator, parse_args, run_tests  # noqa: E402

ARGS = parse_args()


def add_user(hub, user, org, role):
    pw = "pw-" + user + "-" + uuid.uuid4().hex[:8]
    hub.cli("user", "add", user, "--org", org, "--role", role, "--password-stdin", stdin=pw + "\n")
    hub.passwords[user] = pw
    hub.tokens[user] = hub.cli("token", "create", "--user", user, "--label", "e2e")


def records(hub, user, query="limit=1000"):
    r = hub.get("/api/v1/audit?" + query, user=user, accept="application/json")
    return r.status, (r.json()["records"] if r.status == 200 else [])


def test_auditors_see_their_organisation_and_the_hub_auditor_sees_all():
    with Hub(ARGS.ctihub, "audit-scope") as hub:
        hub.setup()
        add_user(hub, "acmeaud", "acme", "auditor")
        add_user(hub, "otheraud", "other", "auditor")
        add_user(hub, "hubaud", "acme", "hub-auditor")
        hub.start()
        secret = indicator(1)
        hub.post_and_wait("acme", [secret])           # acme only
        hub.post_and_wait("shared", [indicator(2)])
        hub.get_all("shared", user="olga")             # other reads the shared collection
        hub.get_all("acme", user="bob")

        status, acme = records(hub, "acmeaud")
        check(status == 200 and acme, "an auditor reads its organisation's records (%d)" % status)
        check(all(r["org"] == "acme" for r in acme),
              "acme's auditor sees only acme's records: %r" % sorted({r["org"] for r in acme}))
        check(any(r["user"] == "bob" for r in acme), "acme's auditor sees bob's reads")
        status, other = records(hub, "otheraud")
        check(status == 200 and other and all(r["org"] == "other" for r in other),
              "other's auditor sees only other's records: %r" % sorted({r["org"] for r in other}))
        check(not any(o["id"] == secret["id"] for r in other for o in r["objects"]),
              "other's auditor never sees the id of acme's private object")
        status, _ = records(hub, "otheraud", "org=acme")
        check(status == 403, "asking for another organisation's records is 403 (got %d)" % status)
        status, _ = records(hub, "bob")
        check(status == 403, "a reader may not read the trail (got %d)" % status)
        status, everything = records(hub, "hubaud")
        orgs = {r["org"] for r in everything}
        check(status == 200 and {"acme", "other"} <= orgs,
              "the hub-auditor reads every organisation's records: %r" % sorted(orgs))


if __name__ == "__main__":
    sys.exit(run_tests([test_auditors_see_their_organisation_and_the_hub_auditor_sees_all]))
