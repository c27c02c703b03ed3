#!/usr/bin/env python3
"""End to end: the admin CLI and the audit trail. Every org/user/token/api-root/
collection change leaves a record (never a secret) and `audit verify` stays
intact, also while a server has the data directory open; `org add` gives every
organisation a STIX identity; relay agreements between organisations created
with `org add` (no policy.toml)."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hub as hubmod  # noqa: E402
from hub import Hub, check, parse_args, run_tests  # noqa: E402

ARGS = parse_args()
IDENTITY_RE = re.compile(r"^identity--[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def run(hub, *args, stdin=None):
    """(returncode, stdout, stderr) of `ctihub ARGS --data DIR`."""
    rc, out, err = hub.run_cli(*args, stdin=stdin, timeout=60)
    return rc, out.strip(), err.strip()


def audit_records(hub, *filters):
    rc, out, err = run(hub, "audit", "show", "--json", "--limit", "0", *filters)
    if not check(rc == 0, "audit show --json exits 0: %s" % err):
        return []
    return sorted(json.loads(out), key=lambda r: r["seq"])  # audit show lists newest first


def audit_verify(hub, what):
    rc, out, err = run(hub, "audit", "verify")
    check(rc == 0, "%s: audit verify exits 0 (%d): %s %s" % (what, rc, out, err))


def find(records, route, **details):
    for r in records:
        if r["route"] == route and all(r["details"].get(k) == v for k, v in details.items()):
            return r
    return None


def test_admin_changes_are_audited():
    with Hub(ARGS.ctihub, "cli-audit") as hub:
        hub.setup()  # api-root add x2, org add x2, user add x4, token create x4, collection add x4
        tokens = json.loads(hub.cli("token", "list", "--user", "olga", "--json"))
        hub.cli("token", "revoke", str(tokens[0]["id"]))
        hub.cli("user", "remove", "bob")
        hub.cli("collection", "remove", hub.collections["api2"])
        hub.cli("api-root", "add", "api2", "--title", "API two, renamed")

        recs = audit_records(hub)
        me = [r for r in recs if r["user"].startswith("cli:")]
        # init's hub.init (naming the audit key), then one record per change.
        check(len(me) == len(recs) and len(recs) == 1 + 2 + 2 + 4 + 4 + 4 + 4,
              "one record per change, all by cli:LOGIN: %d records" % len(recs))
        check(recs and recs[0]["action"] == "hub.init" and len(recs[0]["details"].get("public_key", "")) == 64,
              "the trail starts with hub.init naming the key: %r" % (recs[:1],))
        expect = [
            ("cli org add", "org.changed", {"op": "add", "org": "acme"}),
            ("cli org add", "org.changed", {"op": "add", "org": "other"}),
            ("cli user add", "user.changed", {"op": "add", "user": "alice", "org": "acme",
                                              "role": "publisher", "password": True}),
            ("cli user add", "user.changed", {"op": "add", "user": "root", "role": "admin"}),
            ("cli user remove", "user.changed", {"op": "remove", "user": "bob", "org": "acme"}),
            ("cli token create", "token.changed", {"op": "create", "user": "olga", "label": "e2e",
                                                   "token_id": tokens[0]["id"]}),
            ("cli token revoke", "token.changed", {"op": "revoke", "user": "olga",
                                                   "token_id": tokens[0]["id"]}),
            ("cli api-root add", "collection.changed", {"op": "add", "api_root": "api1"}),
            ("cli api-root add", "collection.changed", {"op": "update", "api_root": "api2",
                                                        "title": "API two, renamed"}),
            ("cli collection add", "collection.changed", {"op": "add", "collection": hub.collections["shared"],
                                                          "alias": "shared", "readers": ["org:acme", "org:other"],
                                                          "writers": ["org:acme"]}),
            ("cli collection remove", "collection.changed", {"op": "remove",
                                                             "collection": hub.collections["api2"]}),
        ]
        for route, action, details in expect:
            r = find(recs, route, **details)
            if check(r is not None, "record %s %r" % (route, details)):
                check(r["action"] == action and r["status"] == 0 and r["remote"] == "local",
                      "%s: action %s, status 0: %r" % (route, action, r))
        acme = find(recs, "cli org add", org="acme")
        if acme:
            check(IDENTITY_RE.match(acme["details"].get("identity_id", "")) is not None
                  and acme["details"].get("identity_from") == "generated",
                  "org add records the generated identity: %r" % acme["details"])
        # Never a secret: no password, no token secret, no hash.
        text = json.dumps(recs)
        for user, pw in hub.passwords.items():
            check(pw not in text, "password of %s not in the audit trail" % user)
        for user, tok in hub.tokens.items():
            # The secret is "cth_" + URL-safe base64, which may itself contain "_":
            # look for the whole encoded part, never a fragment of it.
            check(tok.startswith("cth_") and tok not in text and tok[len("cth_"):] not in text,
                  "token secret of %s not in the audit trail" % user)
        # Filters work on the new actions.
        check(len(audit_records(hub, "--action", "token.changed")) == 5, "--action token.changed")
        audit_verify(hub, "after the admin changes")

        # A refused command leaves no record.
        before = len(audit_records(hub))
        for args in (("user", "remove", "nobody"), ("token", "revoke", "999999"),
                     ("collection", "remove", "00000000-0000-4000-8000-000000000000"),
                     ("user", "add", "x", "--org", "nowhere", "--role", "reader"),
                     ("org", "add", "acme")):
            rc, _, err = run(hub, *args)
            check(rc == 2 and err, "%s refused: %d %s" % (" ".join(args), rc, err))
        check(len(audit_records(hub)) == before, "refused commands leave no record")
        audit_verify(hub, "after refused commands")


def test_no_audit_trail_no_change():
    with Hub(ARGS.ctihub, "cli-noaudit") as hub:
        hub.cli("init")
        hub.cli("org", "add", "acme")
        audit_db = os.path.join(hub.data, "audit.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(audit_db + suffix):
                os.remove(audit_db + suffix)
        os.mkdir(audit_db)  # cannot be opened as a database, even by root
        rc, out, err = run(hub, "user", "add", "eve", "--org", "acme", "--role", "reader")
        check(rc == 2 and "audit trail unavailable, nothing changed" in err,
              "user add refused without an audit trail: %d %s" % (rc, err))
        rc, out, err = run(hub, "org", "add", "other")
        check(rc == 2 and "nothing changed" in err, "org add refused: %d %s" % (rc, err))
        users = json.loads(hub.cli("user", "list", "--json"))
        check(not any(u["name"] == "eve" for u in users), "the user was not added")
        orgs = json.loads(hub.cli("org", "list", "--json"))
        check([o["name"] for o in orgs] == ["acme"], "the organisation was not added: %r" % orgs)


def test_org_identity():
    with Hub(ARGS.ctihub, "cli-identity") as hub:
        hub.cli("init")
        out = hub.cli("org", "add", "acme")
        name, _, ident = out.partition("\t")
        check(name == "acme" and IDENTITY_RE.match(ident) is not None,
              "org add prints a fresh identity--<UUID v4>: %r" % out)
        given = "identity--28aead8c-a994-4021-9abb-8fcc67c0bee6"
        check(hub.cli("org", "add", "demo", "--identity-id", given) == "demo\t" + given,
              "org add --identity-id keeps and prints it")
        for bad in ("identity--xyz", "indicator--28aead8c-a994-4021-9abb-8fcc67c0bee6",
                    "identity--28aead8c-a994-4021-7abb-8fcc67c0bee6", ""):
            rc, _, err = run(hub, "org", "add", "bad", "--identity-id", bad)
            if bad == "":
                # An empty value is "not given": a fresh identity.
                check(rc == 0, "empty --identity-id means a fresh identity: %s" % err)
                continue
            check(rc == 2 and "--identity-id" in err, "%r refused: %d %s" % (bad, rc, err))
        rc, _, err = run(hub, "org", "add", "copycat", "--identity-id", given)
        check(rc == 2 and "already belongs to organisation 'demo'" in err, "identity reuse refused: %s" % err)
        orgs = {o["name"]: o["identity_id"] for o in json.loads(hub.cli("org", "list", "--json"))}
        check(orgs.get("acme") == ident and orgs.get("demo") == given and "copycat" not in orgs,
              "org list: %r" % orgs)

        # policy.toml names an organisation: org add takes its identity.
        ipo = "identity--9a610f91-af26-418b-b1a2-56cf3014944f"
        with open(os.path.join(hub.data, "policy.toml"), "w") as f:
            f.write('[[organisation]]\nname = "ipo"\nidentity = "%s"\nsector = "law-enforcement"\n' % ipo)
        rc, _, err = run(hub, "org", "add", "ipo", "--identity-id",
                         "identity--261aa805-f9a4-45f7-a851-f89dcc35bf6e")
        check(rc == 2 and "policy.toml gives organisation 'ipo' identity" in err,
              "a contradicting --identity-id is refused: %s" % err)
        rc, _, err = run(hub, "org", "add", "impostor", "--identity-id", ipo)
        check(rc == 2 and "policy.toml gives identity %s to organisation 'ipo'" % ipo in err,
              "another organisation's policy identity is refused: %s" % err)
        check(hub.cli("org", "add", "ipo") == "ipo\t" + ipo, "org add takes policy.toml's identity")
        recs = audit_records(hub, "--action", "org.changed")
        r = find(recs, "cli org add", org="ipo")
        check(r is not None and r["details"]["identity_from"] == "policy.toml", "identity source audited: %r" % r)
        audit_verify(hub, "org add")


def test_relay_agreement_between_hub_organisations():
    with Hub(ARGS.ctihub, "cli-relay") as hub:
        hub.cli("init")
        hub.cli("org", "add", "vendor")
        hub.cli("org", "add", "ipo")
        # No policy.toml: the agreement names organisations of the hub database.
        out = hub.cli("agreement", "add", "--id", "vendor-relay-ipo", "--producer", "org:vendor",
                      "--recipient", "org:ipo", "--max-tlp", "amber", "--types", "*", "--relay",
                      "--legal-basis", "relay test")
        check("added" in out, "agreement add --relay: %r" % out)
        hub.cli("agreement", "add", "--id", "plain", "--producer", "org:ipo", "--recipient", "org:vendor",
                "--max-tlp", "green", "--types", "indicator", "--legal-basis", "l")
        show = json.loads(hub.cli("agreement", "show", "vendor-relay-ipo", "--json"))
        check(show.get("relay") is True and show.get("state") == "active", "show --json relay: %r" % show)
        toml = hub.cli("agreement", "show", "vendor-relay-ipo")
        check("relay = true" in toml, "show (TOML) has relay = true: %r" % toml)
        listed = {a["id"]: a for a in json.loads(hub.cli("agreement", "list", "--json"))}
        check(listed.get("plain", {}).get("relay") is False and listed.get("vendor-relay-ipo", {}).get("relay"),
              "list --json relay: %r" % listed)
        table = hub.cli("agreement", "list")
        check("RELAY" in table.splitlines()[0], "list shows a RELAY column: %r" % table)
        if hub.db:  # the policy's documents are in the database
            check("relay = true" in hub.sql("SELECT text FROM policy_documents WHERE name = "
                                            "'agreements.toml'"), "agreements.toml keeps relay")
        else:
            with open(os.path.join(hub.data, "agreements.toml")) as f:
                check("relay = true" in f.read(), "agreements.toml keeps relay")
        # An unknown organisation is still refused.
        rc, _, err = run(hub, "agreement", "add", "--id", "x", "--producer", "org:vendor",
                         "--recipient", "org:nobody", "--max-tlp", "amber", "--types", "*",
                         "--legal-basis", "l")
        check(rc == 2 and "unknown org:nobody" in err, "unknown recipient refused: %s" % err)
        rc, _, err = run(hub, "agreement", "revoke", "vendor-relay-ipo", "--reason", "ended")
        check(rc == 0, "revoke: %s" % err)
        recs = audit_records(hub, "--action", "agreement.changed")
        check(len(recs) == 3 and all(r["user"].startswith("cli:") for r in recs),
              "agreement changes audited: %r" % recs)
        check(recs and recs[0]["details"].get("relay") is True, "the record carries relay")
        audit_verify(hub, "agreements")


def test_cli_changes_while_the_server_runs():
    with Hub(ARGS.ctihub, "cli-live") as hub:
        hub.setup()
        hub.start()
        check(hub.get("/taxii2/").status == 200, "server up")
        for i in range(5):
            hub.cli("user", "add", "live%d" % i, "--org", "acme", "--role", "reader")
            hub.get("/taxii2/")  # the server may audit its requests in between
            hub.cli("token", "create", "--user", "live%d" % i)
        audit_verify(hub, "while the server runs")
        check(hub.get("/taxii2/").status == 200, "server still up")
        hub.stop()
        audit_verify(hub, "after the server stopped")
        recs = audit_records(hub)
        seqs = [r["seq"] for r in recs]
        check(seqs == list(range(1, len(seqs) + 1)), "seqs contiguous")
        check(sum(1 for r in recs if r["route"] == "cli user add") == 4 + 5, "all user adds recorded")


if __name__ == "__main__":
    rc = run_tests([test_admin_changes_are_audited, test_no_audit_trail_no_change, test_org_identity,
                    test_relay_agreement_between_hub_organisations, test_cli_changes_while_the_server_runs])
    sys.exit(1 if hubmod.FAILURES else rc)
