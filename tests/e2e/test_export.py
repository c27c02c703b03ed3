#!/usr/bin/env python3
"""ctihub export (and GET /api/v1/export/{format}) end to end.

Two organisations import indicators with TLP and PAP markings into one
collection; a policy shares GREEN in their community and lets acme read
other's AMBER through an agreement that strips a property. Each user exports
in every format, and no export may hold an object the user cannot read over
TAXII (the objects endpoint is the oracle), while everything the user may read
and the format can carry is there. Also: PAP:AMBER stays out of the blocking
formats unless --include-pap-restricted (audited), revoked and expired
indicators are left out, the RPZ zone passes named-checkzone, a STIX export
imported again stores nothing new, and every export is in the audit trail.
"""
import hashlib
import json
import os
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub import Hub, check, parse_args, run_tests, skip_in_two_nodes  # noqa: E402

ARGS = None

TLP2 = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
PAP_AMBER = "marking-definition--60f8932b-e51e-4458-b265-a2e8be9a80ab"
FORMATS = ["stix", "misp", "csv", "suricata", "zeek", "blocklist", "rpz"]
BLOCKING = {"suricata", "blocklist", "rpz"}
# Which fixture values each format carries (all of them are domains except
# where the kind is named).
KINDS = {"stix": None, "misp": None, "csv": None, "zeek": None, "blocklist": None,
         "suricata": {"domain", "ip", "url", "md5"}, "rpz": {"domain"}}

POLICY = """
[defaults]
unmarked_tlp = "amber"

[[community]]
name = "circle"

[[organisation]]
name = "acme"
identity = "%(acme)s"
communities = ["circle"]

[[organisation]]
name = "other"
identity = "%(other)s"
communities = ["circle"]

[[agreement]]
id = "other-to-acme"
producer = "org:other"
recipient = "org:acme"
max_tlp = "amber"
object_types = ["indicator"]
strip_properties = ["x_notes"]
legal_basis = "e2e test"
"""


def indicator(org, level, kind="domain", extra=None):
    value = {"domain": "ind-%s-%s.example" % (org, level),
             "ip": "198.51.100.%d" % (len(org) * 10 + len(level)),
             "url": "http://ind-%s-%s.example/path" % (org, level),
             "md5": hashlib.md5(("%s-%s" % (org, level)).encode()).hexdigest()}[kind]
    pattern = {"domain": "[domain-name:value = '%s']", "ip": "[ipv4-addr:value = '%s']",
               "url": "[url:value = '%s']", "md5": "[file:hashes.MD5 = '%s']"}[kind] % value
    o = {"type": "indicator", "spec_version": "2.1", "id": "indicator--" + str(uuid.uuid4()),
         "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-02T00:00:00.000Z",
         "name": "%s %s" % (org, level), "pattern": pattern, "pattern_type": "stix",
         "valid_from": "2025-01-01T00:00:00Z", "x_notes": "internal note of " + org}
    tlp = level if level in TLP2 else "clear"
    o["object_marking_refs"] = [TLP2[tlp]]
    if level == "papamber":
        o["object_marking_refs"].append(PAP_AMBER)
    if level == "revoked":
        o["revoked"] = True
    if level == "expired":
        o["valid_until"] = "2025-06-01T00:00:00Z"
    o.update(extra or {})
    return {"object": o, "value": value, "kind": kind, "level": level}


def fixtures():
    items = []
    for org in ["acme", "other"]:
        for level in ["clear", "green", "amber", "red", "papamber", "revoked", "expired"]:
            items.append((org, indicator(org, level)))
    items.append(("acme", indicator("acme", "greenip", "ip", {"object_marking_refs": [TLP2["green"]]})))
    items.append(("other", indicator("other", "greenurl", "url", {"object_marking_refs": [TLP2["green"]]})))
    items.append(("other", indicator("other", "amberhash", "md5", {"object_marking_refs": [TLP2["amber"]]})))
    return items


def run(hub, *args):
    return hub.run_cli(*args)


def setup_hub(hub):
    hub.setup()
    ids = {o["name"]: o["identity_id"] for o in json.loads(hub.cli("org", "list", "--json"))}
    with open(os.path.join(hub.data, "policy.toml"), "w") as f:
        f.write(POLICY % ids)
    items = fixtures()
    for org in ["acme", "other"]:
        bundle = {"type": "bundle", "id": "bundle--" + str(uuid.uuid4()),
                  "objects": [i["object"] for o, i in items if o == org]}
        path = os.path.join(hub.dir, org + ".json")
        with open(path, "w") as f:
            json.dump(bundle, f)
        rc, out, err = run(hub, "import", "--collection", "shared", "--root", "api1", "--org", org,
                           "--json", path)
        check(rc == 0, "import of %s's fixtures (%d): %s %s" % (org, rc, out[-300:], err[-300:]))
    return items


def export(hub, fmt, *extra):
    path = os.path.join(hub.dir, "out-%s-%s" % (fmt, uuid.uuid4().hex[:8]), "export." + fmt)
    os.makedirs(os.path.dirname(path))
    rc, out, err = run(hub, "export", "--format", fmt, "-o", path, *extra)
    check(rc == 0, "export --format %s %s exits 0 (%d): %s" % (fmt, " ".join(extra), rc, err[-400:]))
    with open(path, newline="") as f:  # CSV lines end in CRLF: keep them
        return f.read(), path


def carried(fmt, item):
    kinds = KINDS[fmt]
    return kinds is None or item["kind"] in kinds


def named_checkzone(path):
    r = subprocess.run(["named-checkzone", "rpz.ctihub.test", path], capture_output=True, text=True,
                       timeout=60)
    return r.returncode, r.stdout + r.stderr


def check_export_matches_taxii(fmt, text, user, readable, items):
    """Every fixture value in the export is readable by `user` over TAXII and
    eligible; every readable eligible one the format carries is there."""
    for org, item in items:
        oid = item["object"]["id"]
        value = item["value"]
        if fmt == "zeek" and item["kind"] == "url":
            value = value.split("://", 1)[1]  # Zeek's Intel::URL has no scheme
        present = value in text
        eligible = (oid in readable and item["level"] not in ("revoked", "expired")
                    and not (fmt in BLOCKING and item["level"] == "papamber"))
        if present and oid not in readable:
            check(False, "%s export for %s holds %s (%s %s), unreadable over TAXII"
                  % (fmt, user, item["value"], org, item["level"]))
        elif present != (eligible and carried(fmt, item)):
            check(False, "%s export for %s: %s (%s %s) present=%s, expected %s"
                  % (fmt, user, item["value"], org, item["level"], present,
                     eligible and carried(fmt, item)))


def test_exports_follow_the_read_policy():
    with Hub(ARGS.ctihub, "export") as hub:
        items = setup_hub(hub)
        hub.start()
        seen_by = {}
        for user in ["bob", "olga"]:
            got, _ = hub.get_all(hub.collections["shared"], user=user)
            readable = {o["id"]: o for o in got}
            seen_by[user] = readable
            for fmt in FORMATS:
                text, path = export(hub, fmt, "--as-user", user, "--collection", "shared",
                                    "--root", "api1")
                check_export_matches_taxii(fmt, text, user, readable, items)
                if fmt == "stix":
                    bundle = json.loads(text)
                    for o in bundle["objects"]:
                        check(o.get("id") in readable and o == readable[o["id"]],
                              "stix export for %s: %s is the copy TAXII serves" % (user, o.get("id")))
                if fmt == "rpz":
                    rc, msg = named_checkzone(path)
                    check(rc == 0, "named-checkzone accepts the RPZ for %s: %s" % (user, msg))
                if fmt == "suricata":
                    lists = os.listdir(os.path.dirname(path))
                    md5 = [i["value"] for o, i in items if i["kind"] == "md5"
                           and i["object"]["id"] in readable]
                    if md5:
                        with open(os.path.join(os.path.dirname(path), "ctihub-md5.list")) as f:
                            check(f.read().split() == md5, "md5 list beside the rules for %s" % user)
                    else:
                        check("filemd5" not in text, "no md5 rule without md5 indicators: %s" % lists)
        # The policy really separates the two readers.
        check(any(i["level"] == "red" and o == "acme" and i["object"]["id"] in seen_by["bob"]
                  for o, i in items), "bob reads acme's RED")
        check(not any(i["level"] in ("red", "amber") and o == "acme" and i["object"]["id"] in seen_by["olga"]
                      for o, i in items), "olga reads none of acme's AMBER/RED")
        other_amber = [i for o, i in items if o == "other" and i["level"] == "amber"][0]
        copy = seen_by["bob"].get(other_amber["object"]["id"])
        check(copy is not None and "x_notes" not in copy,
              "bob reads other's AMBER through the agreement, x_notes stripped")
        text, _ = export(hub, "stix", "--as-user", "bob")
        exported = {o["id"]: o for o in json.loads(text)["objects"]}
        amber = exported.get(other_amber["object"]["id"])
        check(amber is not None and "x_notes" not in amber and "internal note of acme" in text,
              "the redaction holds in the export (without --collection: every readable collection)")
        hub.stop()


def test_pap_override_round_trip_and_audit():
    with Hub(ARGS.ctihub, "export-pap") as hub:
        items = setup_hub(hub)
        pap = [i["value"] for o, i in items if i["level"] == "papamber"]
        for fmt in ["suricata", "blocklist", "rpz"]:
            text, path = export(hub, fmt, "--collection", "shared")
            check(not any(v in text for v in pap), "%s leaves PAP:AMBER out" % fmt)
            text, path = export(hub, fmt, "--collection", "shared", "--include-pap-restricted")
            check(all(v in text for v in pap), "%s with --include-pap-restricted has PAP:AMBER" % fmt)
            if fmt == "rpz":
                rc, msg = named_checkzone(path)
                check(rc == 0, "named-checkzone accepts the admin RPZ: %s" % msg)
        rc, out, err = run(hub, "audit", "show", "--json", "--action", "policy.override")
        check(rc == 0 and all(i["object"]["id"] in out for o, i in items if i["level"] == "papamber"),
              "the PAP override names the indicators it let through: %s" % out[:300])
        # Admin export: everything but revoked/expired; imported again it stores nothing.
        text, path = export(hub, "stix")
        ids = {o["id"] for o in json.loads(text)["objects"]}
        want = {i["object"]["id"] for o, i in items if i["level"] not in ("revoked", "expired")}
        check(want <= ids, "the administrator's STIX export holds every live indicator")
        check(not any(i["object"]["id"] in ids for o, i in items
                      if i["level"] in ("revoked", "expired")), "revoked and expired left out")
        rc, out, err = run(hub, "import", "--collection", "shared", "--root", "api1", "--json", path)
        s = json.loads(out) if rc == 0 else {}
        check(rc == 0 and s.get("stored") == 0 and s.get("already_present") == len(ids),
              "STIX export -> import stores nothing new: %s %s" % (out[-300:], err[-300:]))
        rc, out, err = run(hub, "audit", "show", "--json", "--action", "export")
        check(rc == 0 and "cli export" in out and next(iter(want)) in out,
              "exports are audited with the objects they hold: %s" % out[:300])


def test_http_export_for_sensors():
    with Hub(ARGS.ctihub, "export-http") as hub:
        items = setup_hub(hub)
        hub.start()
        for user in ["bob", "olga"]:
            for fmt in FORMATS:
                path = "/api/v1/export/%s?collection=shared&root=api1" % fmt
                r = hub.get(path, user=user, accept=None)
                check(r.status == 200, "GET %s as %s: %d %s" % (path, user, r.status, r.body[:200]))
                cli_text, cli_path = export(hub, fmt, "--as-user", user, "--collection", "shared",
                                            "--root", "api1")
                check(r.body.decode() == cli_text,
                      "HTTP %s export for %s is the CLI's, byte for byte" % (fmt, user))
                check(r.header("Transfer-Encoding") == "chunked"
                      and r.header("Content-Length") is None,
                      "the export is a chunked body: %s" % r.headers)
                etag = r.header("ETag")
                check(etag is not None and etag.startswith('W/"'),
                      "the ETag is a weak validator of the export's inputs: %s" % etag)
                again = hub.get(path, user=user, accept=None, headers={"If-None-Match": etag})
                check(again.status == 304 and again.body == b"",
                      "If-None-Match with the ETag answers 304 (%d)" % again.status)
                if fmt == "suricata":
                    lst = hub.get("/api/v1/export/suricata?collection=shared&root=api1&list=filemd5",
                                  user=user, accept=None)
                    beside = os.path.join(os.path.dirname(cli_path), "ctihub-md5.list")
                    with open(beside) as f:
                        check(lst.status == 200 and lst.body.decode() == f.read(),
                              "?list=filemd5 is the list the CLI writes beside the rules")
        # A change shows: a new indicator changes the ETag.
        before = hub.get("/api/v1/export/blocklist", user="bob", accept=None)
        new = indicator("acme", "fresh", extra={"object_marking_refs": [TLP2["green"]]})
        hub.post_and_wait("shared", [new["object"]], user="alice")
        after = hub.get("/api/v1/export/blocklist", user="bob", accept=None,
                        headers={"If-None-Match": before.header("ETag")})
        check(after.status == 200 and new["value"] in after.body.decode(),
              "a new indicator: 200 with it (%d)" % after.status)
        # Access: credentials required, the caller's collections only, formats named.
        r = hub.get("/api/v1/export/stix", user=None, accept=None)
        check(r.status == 401, "no credentials: 401 (%d)" % r.status)
        r = hub.get("/api/v1/export/stix?collection=%s" % hub.collections["acme"], user="olga",
                    accept=None)
        check(r.status == 403, "a collection olga may not read: 403 (%d)" % r.status)
        r = hub.get("/api/v1/export/snort", user="bob", accept=None)
        check(r.status == 404, "unknown format: 404 (%d)" % r.status)
        r = hub.get("/api/v1/export/stix?frobnicate=1", user="bob", accept=None)
        check(r.status == 400, "unknown parameter: 400 (%d)" % r.status)
        pap = [i for o, i in items if i["level"] == "papamber"][0]
        r = hub.get("/api/v1/export/rpz?include_pap_restricted=true", user="bob", accept=None)
        check(r.status == 200 and pap["value"] in r.body.decode(), "PAP override over HTTP")
        hub.stop()
        if skip_in_two_nodes(hub, "the HTTP exports in node A's trail",
                             "each export was recorded by the node it reached; audit show reads "
                             "one node's trail"):
            return
        rc, out, err = run(hub, "audit", "show", "--json", "--action", "export", "--user", "bob")
        check(rc == 0 and "GET /api/v1/export/" in out and pap["object"]["id"] in out,
              "HTTP exports are audited for their caller: %s" % out[:300])
        rc, out, err = run(hub, "audit", "show", "--json", "--action", "policy.override")
        check(rc == 0 and pap["object"]["id"] in out and "bob" in out,
              "the HTTP PAP override is audited: %s" % out[:300])


def test_bad_arguments():
    with Hub(ARGS.ctihub, "export-bad") as hub:
        hub.setup()
        for args, why in [(["--format", "snort"], "unknown format"),
                          (["--format", "stix", "--as-user", "nobody"], "unknown user"),
                          (["--format", "stix", "--collection", "nope"], "unknown collection"),
                          (["--format", "zeek", "--list", "md5"], "list on a format without lists"),
                          (["--format", "stix", "--since", "yesterday"], "bad timestamp")]:
            rc, out, err = run(hub, "export", *args)
            check(rc == 2 and err.startswith("ctihub: "), "%s: exit 2 with a message (%d): %s"
                  % (why, rc, err))


if __name__ == "__main__":
    ARGS = parse_args()
    sys.exit(run_tests([test_exports_follow_the_read_policy, test_pap_override_round_trip_and_audit,
                        test_http_export_for_sensors, test_bad_arguments]))
