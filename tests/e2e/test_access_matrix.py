#!/usr/bin/env python3
"""The sharing policy through the real read paths, over HTTP.

A generated access matrix: every read path (objects with paging, one object,
versions, manifest, match[id]) x every TLP (unmarked, CLEAR, GREEN, AMBER,
AMBER+STRICT, RED) x PAP (none, GREEN, AMBER, RED) x granular marking (none,
description at AMBER+STRICT) x reader relation (same organisation, direct
recipient, re-share recipient, community member, unrelated organisation,
anonymous), plus an object type outside the agreements. The expected result
of each cell comes from an oracle written here from the rules in
src/policy/README.md, independently of the C++ code; every cell is asserted.

Also: producer rules on write (created_by_ref added, foreign producers refused
unless relayed), revocation and expiry taking effect at once, and the audit
trail of it all (who-saw, GET /api/v1/audit, verify).
"""
import json
import os
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub import (Hub, TAXII, check, eventually, parse_args, run_tests,  # noqa: E402
                 skip_in_two_nodes, two_nodes, urlquote)

ARGS = None

TLP2 = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
PAP = {
    "clear": "marking-definition--ad15a0cd-55b6-4588-a14c-a66105329b92",
    "green": "marking-definition--c43594d1-4b11-4c59-93ab-1c9b14d53ce9",
    "amber": "marking-definition--60f8932b-e51e-4458-b265-a2e8be9a80ab",
    "red": "marking-definition--740d36e5-7714-4c30-961a-3ae632ceee0e",
}
RED_EXT = "extension-definition--7f4a4592-aab5-4a44-b790-83343a778ab2"
LEVEL = {"clear": 0, "green": 1, "amber": 2, "amber+strict": 3, "red": 4}
PAP_LEVEL = {"clear": 0, "green": 1, "amber": 2, "red": 3}

IDS = {name: "identity--" + str(uuid.uuid5(uuid.NAMESPACE_URL, "ctihub-e2e-" + name))
       for name in ["vendor", "police", "unit", "peer", "partner", "stranger", "hubops"]}

POLICY = """
[defaults]
unmarked_tlp = "amber"

[[community]]
name = "cti-circle"

[[organisation]]
name = "vendor"
identity = "%(vendor)s"
sector = "technology"
country = "NL"
communities = ["cti-circle"]

[[organisation]]
name = "police"
identity = "%(police)s"
sector = "law-enforcement"
country = "FR"

[[organisation]]
name = "unit"
identity = "%(unit)s"
sector = "law-enforcement"
country = "DE"

[[organisation]]
name = "peer"
identity = "%(peer)s"
sector = "finance"
country = "BE"
communities = ["cti-circle"]

[[organisation]]
name = "partner"
identity = "%(partner)s"
sector = "energy"
country = "NO"

[[organisation]]
name = "stranger"
identity = "%(stranger)s"
sector = "retail"
country = "US"

[[organisation]]
name = "hubops"
identity = "%(hubops)s"
sector = "technology"
country = "NL"

[[collection]]
name = "feed"
public = true

[[agreement]]
id = "vendor-to-police"
producer = "org:vendor"
recipient = "org:police"
max_tlp = "amber"
object_types = ["indicator", "malware"]
pap_ceiling = "amber"
strip_properties = ["x_vendor_notes"]
reshare = true
legal_basis = "e2e test"

[[agreement]]
id = "vendor-to-partner"
producer = "org:vendor"
recipient = "org:partner"
max_tlp = "amber+strict"
object_types = ["*"]
legal_basis = "e2e test"

[[agreement]]
id = "police-to-unit"
producer = "org:police"
recipient = "org:unit"
max_tlp = "amber"
object_types = ["*"]
pap_ceiling = "green"
reshare = false
legal_basis = "e2e test"
""" % IDS

READERS = ["vendor", "police", "partner", "unit", "peer", "stranger", "anonymous"]
USER_OF = {"vendor": "v", "police": "p", "partner": "q", "unit": "u", "peer": "c", "stranger": "s",
           "anonymous": None}


def make_objects():
    """The generated objects of the matrix, with the facts the oracle needs."""
    out = []
    n = 0
    for tlp in [None, "clear", "green", "amber", "amber+strict", "red"]:
        for pap in [None, "green", "amber", "red"]:
            for granular in [False, True]:
                n += 1
                o = {"type": "malware", "spec_version": "2.1", "id": "malware--" + str(uuid.uuid4()),
                     "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                     "name": "m%d" % n, "is_family": True, "description": "desc %d" % n,
                     "x_vendor_notes": "internal %d" % n}
                refs = ([TLP2[tlp]] if tlp else []) + ([PAP[pap]] if pap else [])
                if refs:
                    o["object_marking_refs"] = refs
                if granular:
                    o["granular_markings"] = [{"marking_ref": TLP2["amber+strict"], "selectors": ["description"]}]
                if tlp == "red":
                    o["extensions"] = {RED_EXT: {"extension_type": "property-extension",
                                                 "recipient_orgs": [IDS["police"]]}}
                out.append({"obj": o, "tlp": tlp, "pap": pap, "granular": granular})
    # A type outside every agreement, at each TLP.
    for tlp in [None, "clear", "green", "amber"]:
        n += 1
        o = {"type": "tool", "spec_version": "2.1", "id": "tool--" + str(uuid.uuid4()),
             "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
             "name": "t%d" % n, "x_vendor_notes": "internal %d" % n}
        if tlp:
            o["object_marking_refs"] = [TLP2[tlp]]
        out.append({"obj": o, "tlp": tlp, "pap": None, "granular": False})
    return out


def grants_for(reader, revoked=False):
    """(name, level, agreement-rules or None) grants of `reader` on the vendor's objects."""
    if reader == "anonymous":
        return [("public", 0, None)]  # "feed" is a public collection
    if reader == "vendor":
        return [("own", 99, None)]
    g = [("public", 0, None)]
    if reader == "peer":
        g.append(("community", 1, None))
    if reader == "police" and not revoked:
        g.append(("agreement", 2, {"types": {"indicator", "malware"}, "pap": 2, "strip": {"x_vendor_notes"}}))
    if reader == "partner":
        g.append(("agreement", 3, {"types": {"indicator", "malware", "tool"}, "pap": 3, "strip": set()}))
    if reader == "unit" and not revoked:
        # vendor-to-police (re-share allowed) then police-to-unit: one hop, capped at AMBER,
        # types intersected, PAP ceilings minimised, strip rules united.
        g.append(("reshare", 2, {"types": {"indicator", "malware"}, "pap": 1, "strip": {"x_vendor_notes"}}))
    return g


REDACTED_EXT = "extension-definition--5d1b3c8e-7a2f-4c61-9e0d-3b8a6f2c4d17"


def expected(reader, item, revoked=False):
    """None (withheld) or the set of top-level properties removed."""
    o = item["obj"]
    tlp = LEVEL[item["tlp"]] if item["tlp"] else LEVEL["amber"]  # unmarked: [defaults] amber
    pap = PAP_LEVEL[item["pap"]] if item["pap"] else None
    best = None
    for name, level, rules in grants_for(reader, revoked):
        if name == "own":
            return set()
        if item["tlp"] == "red":
            continue  # only the named recipients (below)
        if level < tlp:
            continue
        if rules is not None:
            if o["type"] not in rules["types"]:
                continue
            if pap is not None and pap > rules["pap"]:
                continue
        removed = set()
        if item["granular"] and level < LEVEL["amber+strict"]:
            removed.add("description")
        if rules is not None:
            removed |= {p for p in rules["strip"] if p in o}
        if best is None or len(removed) < len(best):
            best = removed
    if item["tlp"] == "red" and reader == "police":
        return set()  # named in recipient_orgs: TLP:RED, granular AMBER+STRICT kept
    return best


def check_served(reader, item, served, where):
    exp = expected(reader, item)
    o = item["obj"]
    want = {k: v for k, v in o.items() if k not in exp}
    if item["granular"] and "description" in exp:
        want.pop("granular_markings", None)  # its only selector is gone
    got = {k: v for k, v in served.items() if k != "created_by_ref"}
    if exp:
        # A redacted copy names what was removed (src/policy/README.md, redaction marker).
        marker = got.pop("extensions", {}).pop(REDACTED_EXT, None)
        check(marker is not None and marker.get("extension_type") == "property-extension"
              and set(marker.get("redacted_selectors", [])) >= exp,
              "%s %s %s: the redacted copy is marked: %r" % (where, reader, o["id"], marker))
    check(served.get("created_by_ref") == IDS["vendor"],
          "%s %s %s: created_by_ref is the vendor's identity" % (where, reader, o["id"]))
    check(got == want, "%s %s %s: served %s, expected %s" % (
        where, reader, o["id"], sorted(got), sorted(want)))


def setup_hub(h):
    h.cli("init")
    h.cli("api-root", "add", "api1", "--title", "API one")
    for org in ["vendor", "police", "partner", "unit", "peer", "stranger", "hubops"]:
        h.cli("org", "add", org, "--identity-id", IDS[org])
    with open(os.path.join(h.data, "policy.toml"), "w") as f:
        f.write(POLICY)
    for user, org, role in [("v", "vendor", "publisher"), ("p", "police", "publisher"),
                            ("u", "unit", "reader"), ("q", "partner", "reader"), ("c", "peer", "reader"), ("s", "stranger", "reader"),
                            ("aud", "hubops", "hub-auditor")]:
        pw = "pw-" + user + "-" + uuid.uuid4().hex[:8]
        h.cli("user", "add", user, "--org", org, "--role", role, "--password-stdin", stdin=pw + "\n")
        h.passwords[user] = pw
        h.tokens[user] = h.cli("token", "create", "--user", user, "--label", "e2e")
    h.collections["feed"] = h.cli("collection", "add", "--root", "api1", "--title", "Feed", "--alias", "feed",
                                  "--readers", "*", "--writers", "vendor,police")


def setup_hub_with_agreement(h, agreement_toml):
    """setup_hub, plus one more [[agreement]] table appended to policy.toml."""
    setup_hub(h)
    with open(os.path.join(h.data, "policy.toml"), "a") as f:
        f.write("\n[[agreement]]\n" + agreement_toml)


def page_all(h, path, user, limit=7):
    """Pages an envelope/manifest endpoint; returns (items, responses)."""
    items, responses, nxt = [], [], None
    for _ in range(1000):
        sep = "&" if "?" in path else "?"
        p = path + sep + "limit=%d" % limit + ("&next=" + urlquote(nxt) if nxt else "")
        r = h.get(p, user=user)
        responses.append(r)
        if r.status != 200:
            return items, responses
        body = r.json()
        items += body.get("objects", [])
        if not body.get("more"):
            return items, responses
        nxt = body.get("next")
        if not check(bool(nxt), "more without next on %s" % path):
            return items, responses
    check(False, "paging does not end on %s" % path)
    return items, responses


def test_access_matrix():
    items = make_objects()
    with Hub(ARGS.ctihub, "matrix") as h:
        setup_hub(h)
        h.start()
        objs = [dict(it["obj"]) for it in items]
        for o in objs:
            o.pop("created_by_ref", None)
        st = h.post_and_wait("feed", objs, user="v")
        check(st["success_count"] == len(objs), "every matrix object stored: %s" % st)
        by_id = {it["obj"]["id"]: it for it in items}
        col = h.collections["feed"]
        cells = 0
        for reader in READERS:
            user = USER_OF[reader]
            visible = {i for i, it in by_id.items() if expected(reader, it) is not None}
            # objects, paged
            served, responses = page_all(h, "/api1/collections/%s/objects/" % col, user)
            check(all(r.status == 200 for r in responses), "objects pages 200 for %s" % reader)
            ids = [o["id"] for o in served]
            check(len(ids) == len(set(ids)), "objects: no duplicates for %s" % reader)
            check(set(ids) == visible, "objects for %s: extra %s missing %s" % (
                reader, sorted(set(ids) - visible)[:3], sorted(visible - set(ids))[:3]))
            for o in served:
                if o["id"] in by_id:
                    check_served(reader, by_id[o["id"]], o, "objects")
            # the headers are computed over what the reader sees
            first_page = responses[0]
            if visible:
                check(first_page.header("X-TAXII-Date-Added-First") is not None,
                      "date-added header for %s" % reader)
            else:
                check(first_page.header("X-TAXII-Date-Added-First") is None and
                      not first_page.json().get("more") and "objects" not in first_page.json(),
                      "nothing visible: empty envelope, no headers, more=false for %s" % reader)
            # manifest, paged
            manifest, mresp = page_all(h, "/api1/collections/%s/manifest/" % col, user)
            check(all(r.status == 200 for r in mresp), "manifest pages 200 for %s" % reader)
            check({m["id"] for m in manifest} == visible, "manifest for %s lists exactly the visible ids" % reader)
            if manifest and served:
                check(first_page.header("X-TAXII-Date-Added-First") == mresp[0].header("X-TAXII-Date-Added-First"),
                      "objects and manifest agree on the first date_added for %s" % reader)
            cells += 2 * len(by_id)
            # one object, versions, match[id]
            for oid, it in by_id.items():
                exp = expected(reader, it)
                r = h.get("/api1/collections/%s/objects/%s/" % (col, oid), user=user)
                v = h.get("/api1/collections/%s/objects/%s/versions/" % (col, oid), user=user)
                m = h.get("/api1/collections/%s/objects/?match[id]=%s" % (col, oid), user=user)
                cells += 3
                if exp is None:
                    check(r.status == 404 and r.json().get("http_status") == "404",
                          "object %s withheld from %s answers 404 (got %d)" % (oid, reader, r.status))
                    check(v.status == 404, "versions of %s withheld from %s: 404 (got %d)" % (oid, reader, v.status))
                    check(m.status == 200 and "objects" not in m.json(),
                          "match[id] of %s withheld from %s: empty" % (oid, reader))
                    missing = h.get("/api1/collections/%s/objects/%s/" % (col, "malware--" + str(uuid.uuid4())),
                                    user=user)
                    check(missing.body == r.body and missing.status == r.status,
                          "withheld answers exactly like missing for %s" % reader)
                else:
                    check(r.status == 200 and len(r.json().get("objects", [])) == 1,
                          "object %s served to %s (got %d)" % (oid, reader, r.status))
                    if r.status == 200:
                        check_served(reader, it, r.json()["objects"][0], "object")
                    check(v.status == 200 and v.json().get("versions") == ["2024-01-01T00:00:00.000Z"],
                          "versions of %s for %s: %d %s" % (oid, reader, v.status, v.body[:200]))
                    check(m.status == 200 and [o["id"] for o in m.json().get("objects", [])] == [oid],
                          "match[id] of %s for %s" % (oid, reader))
        print("access matrix: %d objects x %d readers, %d cells asserted" % (len(by_id), len(READERS), cells))

        # Anonymous: only public collections exist; nothing else is answered.
        r = h.get("/api1/collections/", user=None)
        check(r.status == 200 and [c["id"] for c in r.json().get("collections", [])] == [col],
              "anonymous lists only the public collection")
        r = h.request("POST", "/api1/collections/%s/objects/" % col, body={"objects": []}, user=None)
        check(r.status == 401, "anonymous POST: 401 (got %d)" % r.status)

        # Revocation takes effect on the next request.
        police_amber = [i for i, it in by_id.items() if it["tlp"] == "amber" and it["pap"] is None
                        and it["obj"]["type"] == "malware"]
        r = h.get("/api1/collections/%s/objects/%s/" % (col, police_amber[0]), user="p")
        check(r.status == 200, "police reads an AMBER object before revocation")
        h.cli("agreement", "revoke", "vendor-to-police", "--reason", "e2e")
        # At once on one node; within 1 s on every node of two (their policy poll): two
        # requests in a row reach both nodes.
        amber_path = "/api1/collections/%s/objects/%s/" % (col, police_amber[0])

        def refused_everywhere(user):
            return all(h.get(amber_path, user=user).status == 404 for _ in range(2))

        check(eventually(h, lambda: refused_everywhere("p"), timeout=1.0),
              "revoked agreement: police gets 404 at once (got %d)"
              % h.get(amber_path, user="p").status)
        check(eventually(h, lambda: refused_everywhere("u"), timeout=1.0),
              "revoked agreement: the re-share chain stops too (got %d)"
              % h.get(amber_path, user="u").status)
        served, _ = page_all(h, "/api1/collections/%s/objects/" % col, "p", limit=50)
        want = {i for i, it in by_id.items() if expected("police", it, revoked=True) is not None}
        check({o["id"] for o in served} == want, "after revocation police sees only public and RED-named objects")
        h.stop()


def test_expired_agreement():
    with Hub(ARGS.ctihub, "expired") as h:
        setup_hub_with_agreement(h, 'id = "vendor-to-stranger-old"\nproducer = "org:vendor"\n'
                                    'recipient = "org:stranger"\nmax_tlp = "amber"\nobject_types = ["*"]\n'
                                    'valid_from = "2020-01-01T00:00:00Z"\nexpires = "2021-01-01T00:00:00Z"\n'
                                    'legal_basis = "expired"\n')
        h.start()
        m = {"type": "malware", "spec_version": "2.1", "id": "malware--" + str(uuid.uuid4()),
             "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
             "name": "amber", "is_family": True, "object_marking_refs": [TLP2["amber"]]}
        h.post_and_wait("feed", [m], user="v")
        r = h.get("/api1/collections/%s/objects/%s/" % (h.collections["feed"], m["id"]), user="s")
        check(r.status == 404, "an expired agreement grants nothing (got %d)" % r.status)
        h.stop()


def test_producer_rules_and_audit():
    with Hub(ARGS.ctihub, "producer") as h:
        setup_hub_with_agreement(h, 'id = "vendor-relay-by-police"\nproducer = "org:vendor"\n'
                                    'recipient = "org:police"\nmax_tlp = "clear"\nobject_types = ["*"]\n'
                                    'relay = true\nlegal_basis = "relay"\n')
        h.start()
        col = h.collections["feed"]
        mine = {"type": "malware", "spec_version": "2.1", "id": "malware--" + str(uuid.uuid4()),
                "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                "name": "mine", "is_family": True, "object_marking_refs": [TLP2["amber"]]}
        sco = {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--" + str(uuid.uuid4()),
               "value": "203.0.113.9"}
        st = h.post_and_wait("feed", [mine, sco], user="v")
        check(st["success_count"] == 2, "vendor stores its objects")
        r = h.get("/api1/collections/%s/objects/%s/" % (col, mine["id"]), user="v")
        check(r.status == 200 and r.json()["objects"][0].get("created_by_ref") == IDS["vendor"],
              "created_by_ref set from the writer's organisation")
        r = h.get("/api1/collections/%s/objects/%s/" % (col, sco["id"]), user="v")
        check(r.status == 200 and "created_by_ref" not in r.json()["objects"][0],
              "an SCO gets no created_by_ref (its producer is kept beside it)")
        r = h.get("/api1/collections/%s/objects/%s/" % (col, sco["id"]), user="s")
        check(r.status == 404, "the vendor's unmarked (AMBER) SCO is withheld from a stranger")

        forged = dict(mine, id="malware--" + str(uuid.uuid4()), created_by_ref=IDS["peer"])
        relayed = dict(mine, id="malware--" + str(uuid.uuid4()), created_by_ref=IDS["vendor"])
        r = h.post_objects("feed", [forged, relayed], user="p")
        st = h.wait_status(r.json()["id"], user="p")
        failed = {f["id"]: f.get("message", "") for f in st.get("failures", [])}
        check(forged["id"] in failed and "producer_not_allowed" in failed[forged["id"]],
              "a payload claiming another producer is refused: %s" % failed)
        check(relayed["id"] not in failed and st["success_count"] == 1,
              "a relay agreement lets police post the vendor's objects")
        r = h.get("/api1/collections/%s/objects/%s/" % (col, relayed["id"]), user="v")
        check(r.status == 200, "the relayed object belongs to the vendor")

        # Audit: failed login, who saw what, auditor API, verify.
        bad = h.request("GET", "/taxii2/", user=None, headers={"Authorization": "Basic " +
                        __import__("base64").b64encode(b"p:wrong-password").decode()})
        check(bad.status == 401, "a bad password is 401")
        r = h.get("/api/v1/audit?action=login.failed", user="aud", accept="application/json")
        check(r.status == 200, "auditor reads the trail over HTTP (got %d %s)" % (r.status, r.body[:200]))
        if r.status == 200 and not skip_in_two_nodes(
                h, "the failed login in the trail read over HTTP",
                "the login failed on one node, the trail was read through the other"):
            recs = r.json()["records"]
            check(any(x.get("user") == "p" for x in recs), "the failed login of p is recorded: %s" % recs[:2])
            check(all("wrong-password" not in json.dumps(x) for x in recs), "no password in the trail")
        r = h.get("/api/v1/audit", user="p", accept="application/json")
        check(r.status == 403, "a non-auditor may not read the trail (got %d)" % r.status)

        # An organisation added while the hub runs is known from its first request.
        h.cli("org", "add", "latecomer")
        pw = "pw-late-" + uuid.uuid4().hex[:8]
        h.cli("user", "add", "late", "--org", "latecomer", "--role", "publisher", "--password-stdin",
              stdin=pw + "\n")
        h.tokens["late"] = h.cli("token", "create", "--user", "late", "--label", "e2e")
        h.collections["late"] = h.cli("collection", "add", "--root", "api1", "--title", "Late",
                                      "--readers", "latecomer", "--writers", "latecomer")
        own = dict(mine, id="malware--" + str(uuid.uuid4()))
        st = h.post_and_wait("late", [own], user="late")
        check(st["success_count"] == 1, "the new organisation writes")
        r = h.get("/api1/collections/%s/objects/%s/" % (h.collections["late"], own["id"]), user="late")
        check(r.status == 200 and r.json()["objects"][0].get("created_by_ref", "").startswith("identity--"),
              "the new organisation reads its own AMBER object, stamped with its identity (%d)" % r.status)
        r = h.get("/api/v1/audit?object=%s&action=object.written" % mine["id"], user="aud",
                  accept="application/json")
        if not skip_in_two_nodes(h, "the write and who-saw in node A's trail",
                                 "audit show and who-saw read one node's trail"):
            check(r.status == 200 and len(r.json()["records"]) == 1
                  and r.json()["records"][0]["user"] == "v", "the write of the object is in the trail")
        h.stop()
        if two_nodes(h):
            return
        out = subprocess.run([h.ctihub, "audit", "who-saw", mine["id"], "--data", h.data, "--json"],
                             capture_output=True, text=True, timeout=60)
        check(out.returncode == 0, "who-saw runs: %s" % out.stderr)
        saw = json.loads(out.stdout) if out.returncode == 0 else []
        users = {v.get("user") for v in (saw if isinstance(saw, list) else saw.get("viewings", []))}
        check(users == {"v"}, "who-saw lists exactly the principals served the object: %s" % users)
        v = subprocess.run([h.ctihub, "audit", "verify", "--data", h.data], capture_output=True, text=True,
                           timeout=60)
        check(v.returncode == 0, "audit verify: intact (%s)" % v.stdout)


def test_versions_withheld_as_if_missing():
    """Versions of one object under different markings: each reader's "last" and
    "first" are among the versions it may see, exactly as if the others were not
    stored, on every read path (objects, one object, versions, manifest, filters)."""
    with Hub(ARGS.ctihub, "versions") as h:
        setup_hub(h)
        h.start()
        col = h.collections["feed"]
        oid = "malware--" + str(uuid.uuid4())

        def version(day, tlp):
            ts = "2024-01-%02dT00:00:00.000Z" % day
            return {"type": "malware", "spec_version": "2.1", "id": oid, "created": "2024-01-01T00:00:00.000Z",
                    "modified": ts, "name": "v%d" % day, "is_family": True,
                    "object_marking_refs": [TLP2[tlp]]}

        def view(user, query=""):
            objs = h.get("/api1/collections/%s/objects/?match[id]=%s%s" % (col, oid, query), user=user)
            one = h.get("/api1/collections/%s/objects/%s/%s" % (col, oid, "?" + query[1:] if query else ""),
                        user=user)
            man = h.get("/api1/collections/%s/manifest/?match[id]=%s%s" % (col, oid, query), user=user)
            return ([o["modified"][8:10] for o in objs.json().get("objects", [])],
                    [o["modified"][8:10] for o in one.json().get("objects", [])] if one.status == 200 else None,
                    [m["version"][8:10] for m in man.json().get("objects", [])])

        st = h.post_and_wait("feed", [version(1, "green"), version(2, "amber")], user="v")
        check(st["success_count"] == 2, "two versions stored: %s" % st)
        # peer (community: GREEN) does not see the AMBER version: its last is the GREEN one.
        check(view("c") == (["01"], ["01"], ["01"]), "peer's last is the GREEN version: %s" % (view("c"),))
        check(view("p") == (["02"], ["02"], ["02"]), "police's last is the AMBER version: %s" % (view("p"),))
        check(view("c", "&match[version]=all") == (["01"], ["01"], ["01"]), "peer: all = the GREEN one")
        check(view("c", "&match[version]=first,last") == (["01"], ["01"], ["01"]), "peer: first,last")
        check(view("c", "&match[version]=2024-01-02T00:00:00.000Z") == ([], None, []),
              "peer: the AMBER version by its timestamp answers as a missing one")
        r = h.get("/api1/collections/%s/objects/%s/versions/" % (col, oid), user="c")
        check(r.status == 200 and r.json().get("versions") == ["2024-01-01T00:00:00.000Z"],
              "peer's versions: the GREEN one only: %s" % r.body[:200])
        r = h.get("/api1/collections/%s/objects/%s/" % (col, oid), user="s")
        check(r.status == 404, "stranger (CLEAR only): 404 (got %d)" % r.status)
        # The AMBER version was added after the GREEN one: for peer nothing is new after it.
        first_added = h.get("/api1/collections/%s/manifest/?match[id]=%s&match[version]=first" % (col, oid),
                            user="v").json()["objects"][0]["date_added"]
        r = h.get("/api1/collections/%s/objects/?added_after=%s" % (col, first_added), user="c")
        check(r.status == 200 and "objects" not in r.json(),
              "peer: nothing after the GREEN version's date_added: %s" % r.body[:200])
        r = h.get("/api1/collections/%s/objects/?added_after=%s" % (col, first_added), user="p")
        check([o["modified"][8:10] for o in r.json().get("objects", [])] == ["02"],
              "police: the AMBER version after it")
        # A third, GREEN again: it is everybody's last.
        h.post_and_wait("feed", [version(3, "green")], user="v")
        check(view("c") == (["03"], ["03"], ["03"]), "peer's last is the new GREEN version: %s" % (view("c"),))
        check(view("p") == (["03"], ["03"], ["03"]), "police's last too: %s" % (view("p"),))
        check(view("c", "&match[version]=first") == (["01"], ["01"], ["01"]), "peer's first is still 01")
        r = h.get("/api1/collections/%s/objects/%s/versions/" % (col, oid), user="c")
        check(r.json().get("versions") == ["2024-01-01T00:00:00.000Z", "2024-01-03T00:00:00.000Z"],
              "peer's versions skip the AMBER one: %s" % r.body[:200])
        h.stop()


def test_malformed_policy_refused():
    with Hub(ARGS.ctihub, "badpolicy") as h:
        setup_hub_with_agreement(h, 'id = "broken"\nproducer = "org:vendor"\nrecipient = "org:nobody"\n'
                                    'max_tlp = "amber"\nobject_types = ["*"]\nlegal_basis = "x"\n')
        if two_nodes(h):
            # With --db the policy is in the database: importing it is what refuses it.
            r = subprocess.run([h.ctihub, "policy", "import", "--data", h.data, "--db", h.db],
                               capture_output=True, text=True, timeout=60)
            check(r.returncode != 0, "policy import refuses a policy it cannot use (rc %d)"
                  % r.returncode)
            check("policy.toml:" in r.stderr and "nobody" in r.stderr,
                  "the refusal names the file, line and reason: %r" % r.stderr)
            return
        r = subprocess.run([h.ctihub, "serve", "--data", h.data, "--listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode != 0, "serve refuses a policy it cannot use (rc %d)" % r.returncode)
        check("policy.toml:" in r.stderr and "nobody" in r.stderr,
              "the refusal names the file, line and reason: %r" % r.stderr)


if __name__ == "__main__":
    ARGS = parse_args()
    sys.exit(run_tests([test_access_matrix, test_expired_agreement, test_producer_rules_and_audit,
                        test_versions_withheld_as_if_missing, test_malformed_policy_refused]))
