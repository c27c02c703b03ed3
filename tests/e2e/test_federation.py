#!/usr/bin/env python3
"""End to end, three hubs on 127.0.0.1 (issue 15): the vendor's hub V, the
international police organisation's hub P and a national unit's hub N, each
with the agreements of docs/examples/vendor-police plus the relay agreements
each operator adds for the hubs it exchanges with.

P pulls the vendor's feed from V; N pulls P's collection and pushes to it.
After syncing, P holds exactly what V serves the IPO and N exactly what P
serves the unit (object by object, redactions included: each stored object is
byte-for-byte what the sending hub's TAXII serves that reader). N's sighting
of a vendor indicator travels N -> P (push) -> V (sightings back, P's peer V
being pull-only); N's sighting of an IPO indicator stops at P: V does not
speak for that indicator. A second pass sends no sighting twice."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub import Hub, check, parse_args, run_tests  # noqa: E402
import vendor_police as vp  # noqa: E402

ARGS = parse_args()
ORGS = ["secvendor", "ipo", "unit-fr", "unit-de", "unit-es"]
UNIT_FR = "identity--2ba746f5-ba3f-4e0d-a5b0-4d3e47c97a70"
IPO_INDICATOR = vp.oid("indicator", 90)  # the IPO's own GREEN indicator


def example_hub(name, collection, readers, writers, users):
    """A hub with the example policy, its five organisations, one collection
    (alias COLLECTION) and USERS [(name, org, role)], passwords in .passwords."""
    h = Hub(ARGS.ctihub, name)
    h.cli("init")
    shutil.copy(vp.EXAMPLE, os.path.join(h.data, "policy.toml"))
    for org in ORGS:
        h.cli("org", "add", org)
    h.cli("api-root", "add", "api1", "--title", "API one")
    h.collections[collection] = h.cli("collection", "add", "--root", "api1", "--title", collection,
                                      "--alias", collection, "--readers", readers, "--writers", writers)
    for user, org, role in users:
        pw = "pw-%s-%s" % (user, uuid.uuid4().hex[:8])
        h.cli("user", "add", user, "--org", org, "--role", role, "--password-stdin", stdin=pw + "\n")
        h.passwords[user] = pw
        h.tokens[user] = h.cli("token", "create", "--user", user, "--label", "e2e")
    return h


def import_objects(h, collection, org, objects):
    path = os.path.join(h.dir, "%s-%s.json" % (org, uuid.uuid4().hex[:6]))
    with open(path, "w") as f:
        json.dump({"type": "bundle", "id": "bundle--" + str(uuid.uuid4()), "objects": objects}, f)
    h.cli("import", "--collection", collection, "--org", org, path)


def relay(h, ident, producer, recipient, tlp, types):
    h.cli("agreement", "add", "--id", ident, "--producer", producer, "--recipient", recipient,
          "--max-tlp", tlp, "--types", types, "--relay", "--legal-basis", "hub-to-hub relay (e2e)")


def stored(h, collection):
    """Every stored version of COLLECTION, read from the hub's database (not
    through any policy): {(id, version): object}."""
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(h.data, "ctihub.db"), uri=True)
    try:
        rows = db.execute("SELECT json FROM objects WHERE collection = ?",
                          (h.collections[collection],)).fetchall()
    finally:
        db.close()
    out = {}
    for (text,) in rows:
        o = json.loads(text)
        out[(o["id"], o.get("modified") or o.get("created") or "")] = o
    return out


def served(h, collection, user):
    """Every version H's TAXII serves USER: {(id, version): object}."""
    objs, _ = h.get_all(collection, query="match[version]=all", user=user)
    return {(o["id"], o.get("modified") or o.get("created") or ""): o for o in objs}


def sync_json(h, *names):
    r = h.cli("sync", "--json", *names, check_rc=False)
    return json.loads(r) if r.startswith("{") else {"raw": r}


def peer_of(result, name):
    return next((p for p in result.get("peers", []) if p.get("name") == name), {})


def sighting(of_ref, count):
    return {"type": "sighting", "spec_version": "2.1", "id": "sighting--" + str(uuid.uuid4()),
            "created": "2026-11-20T10:00:00.000Z", "modified": "2026-11-20T10:00:00.000Z",
            "created_by_ref": UNIT_FR, "sighting_of_ref": of_ref, "count": count,
            "first_seen": "2026-11-20T09:00:00Z", "last_seen": "2026-11-20T09:30:00Z",
            "object_marking_refs": [vp.TLP["amber"]]}


def without_sightings(objs):
    return {k: v for k, v in objs.items() if v["type"] != "sighting"}


def test_three_hubs_exchange_under_the_agreements_and_sightings_go_back():
    v = example_hub("fed-v", "vendor-feed", "secvendor,ipo", "secvendor,ipo",
                    [("ipo-link", "ipo", "publisher"), ("vendor-analyst", "secvendor", "reader")])
    p = example_hub("fed-p", "ipo-feed", "ipo,unit-fr,unit-de,secvendor", "ipo,unit-fr",
                    [("fr-link", "unit-fr", "publisher"), ("ipo-analyst", "ipo", "reader")])
    n = example_hub("fed-n", "unit-feed", "unit-fr,ipo", "unit-fr",
                    [("fr-analyst", "unit-fr", "reader")])
    with v, p, n:
        # The email-addr fixture gets its deterministic id first (vendor_police.build does).
        email = dict(vp.VENDOR_OBJECTS[-1])
        r = subprocess.run([ARGS.ctihub, "stix", "id"], input=json.dumps(email),
                                         capture_output=True, text=True, timeout=60)
        email["id"] = json.loads(r.stdout.splitlines()[0])["id"]
        import_objects(v, "vendor-feed", "secvendor", vp.VENDOR_OBJECTS[:-1] + [email])
        import_objects(p, "ipo-feed", "ipo", vp.IPO_OBJECTS + [vp.indicator(90, "green")])
        # V accepts the units' sightings when the IPO's hub relays them; N accepts
        # the vendor's objects when the IPO's hub relays them.
        relay(v, "units-relay-ipo", "community:national-units", "org:ipo", "amber", "sighting")
        relay(n, "secvendor-relay-ipo", "org:secvendor", "org:ipo", "green",
              "indicator,malware,infrastructure,threat-actor,report")
        v.start()

        # 1. P pulls the vendor's feed: exactly what V serves the IPO.
        p.cli("peer", "add", "vendor", "--url", "http://127.0.0.1:%d/taxii2/" % v.port,
              "--collection", v.collections["vendor-feed"], "--local-collection", "ipo-feed",
              "--org", "secvendor", "--direction", "pull", "--user", "ipo-link", "--password-stdin",
              stdin=v.passwords["ipo-link"] + "\n")
        res = sync_json(p)
        check(peer_of(res, "vendor").get("ok"), "P pulls from V: %r" % res)
        for_ipo = served(v, "vendor-feed", "ipo-link")
        at_p = stored(p, "ipo-feed")
        from_v = {k: o for k, o in at_p.items() if o.get("created_by_ref") == vp.VENDOR}
        check(len(for_ipo) > 0 and from_v == for_ipo,
              "P holds exactly what V serves the IPO, byte for byte: %r vs %r"
              % (sorted(from_v), sorted(for_ipo)))
        check(all("x_personal_data" not in o for o in from_v.values()), "personal data redacted at P")
        check(email["id"] not in {i for i, _ in at_p}, "the withheld email-addr never left V")
        check(vp.STRICT_6 not in {i for i, _ in at_p}, "AMBER+STRICT stayed at V")

        # 2. N pulls P's collection and pushes back to it: exactly what P serves the unit.
        p.start()
        n.cli("peer", "add", "ipo", "--url", "http://127.0.0.1:%d/taxii2/" % p.port,
              "--collection", p.collections["ipo-feed"], "--local-collection", "unit-feed",
              "--org", "ipo", "--direction", "both", "--user", "fr-link", "--password-stdin",
              stdin=p.passwords["fr-link"] + "\n")
        res = sync_json(n)
        check(peer_of(res, "ipo").get("ok"), "N syncs with P: %r" % res)
        # Everything N holds came from P: its push (direction both) echoes none of it back.
        check(peer_of(res, "ipo").get("push_sent") == 0,
              "N sends P nothing P sent it: %r" % peer_of(res, "ipo"))
        for_unit = served(p, "ipo-feed", "fr-link")
        at_n = stored(n, "unit-feed")
        check(len(for_unit) > 0 and at_n == for_unit,
              "N holds exactly what P serves the unit, byte for byte: %r vs %r"
              % (sorted(at_n), sorted(for_unit)))
        who = n.cli("audit", "who-saw", vp.GREEN_4, check_rc=False)
        check("object.written" in who and "from peer ipo" in who,
              "who-saw at N says the version came from peer ipo: %r" % who)
        check({i for i, _ in at_n} >= {vp.GREEN_4, vp.GREEN_5, IPO_INDICATOR}
              and not {vp.AMBER_2, vp.PERSONAL, vp.IPO_REPORT} & {i for i, _ in at_n},
              "GREEN only reaches the unit (the vendor's by the re-share chain): %r" % sorted(at_n))

        # 3. N sights a vendor indicator and an IPO indicator; N's next pass pushes both to P.
        of_vendor, of_ipo = sighting(vp.GREEN_4, 3), sighting(IPO_INDICATOR, 1)
        import_objects(n, "unit-feed", "unit-fr", [of_vendor, of_ipo])
        res = sync_json(n)
        check(peer_of(res, "ipo").get("ok"), "N's second pass: %r" % res)
        at_p = stored(p, "ipo-feed")
        check({of_vendor["id"], of_ipo["id"]} <= {i for i, _ in at_p},
              "both sightings reached P: %r" % peer_of(res, "ipo"))
        check(peer_of(res, "ipo").get("push_sent") == 2,
              "and only they were sent: %r" % peer_of(res, "ipo"))

        # 4. P's pass with V (pull-only) sends back the sighting of the vendor's indicator only.
        p.stop()
        res = sync_json(p)
        vendor = peer_of(res, "vendor")
        back = vendor.get("sightings_back", {})
        check(vendor.get("ok") and back.get("pushed") == 1 and back.get("failed") == 0,
              "P sends one sighting back to V: %r" % vendor)
        at_v = stored(v, "vendor-feed")
        check(of_vendor["id"] in {i for i, _ in at_v}, "the unit's sighting of the vendor indicator is at V")
        check(of_ipo["id"] not in {i for i, _ in at_v}, "the sighting of the IPO's indicator stays at P")
        seen = served(v, "vendor-feed", "vendor-analyst")
        got = [o for (i, _), o in seen.items() if i == of_vendor["id"]]
        check(len(got) == 1 and got[0]["sighting_of_ref"] == vp.GREEN_4
              and got[0]["created_by_ref"] == UNIT_FR,
              "the vendor's analyst reads it, the unit named as its producer: %r" % got)
        trail = p.cli("audit", "show", "--action", "sync.pushed")
        check("sightings-back" in trail, "the sightings back are audited: %r" % trail[-600:])
        who = p.cli("audit", "who-saw", of_vendor["id"])
        check("secvendor" in who, "who-saw at P names the vendor: %r" % who)
        show = p.cli("peer", "show", "vendor")
        check("sightings_back\t1" in show, "peer show counts it: %r" % show)

        # 5. A second pass sends nothing again.
        res = sync_json(p)
        back = peer_of(res, "vendor").get("sightings_back", {})
        check(peer_of(res, "vendor").get("ok") and back.get("sent", 0) == 0,
              "nothing sent twice: %r" % peer_of(res, "vendor"))
        check(len([k for k in stored(v, "vendor-feed") if k[0] == of_vendor["id"]]) == 1,
              "one version at V")
        check(without_sightings(stored(v, "vendor-feed")) == without_sightings(at_v), "V otherwise unchanged")


def _trail_files(h):
    return [f for f in os.listdir(h.data) if f.startswith("audit.db")] + ["node.key", "audit.pub"]


def _save_trail(h, to):
    os.makedirs(to, exist_ok=True)
    for f in _trail_files(h):
        shutil.copy2(os.path.join(h.data, f), os.path.join(to, f))


def _restore_trail(h, frm):
    for f in _trail_files(h):
        os.remove(os.path.join(h.data, f))
    for f in os.listdir(frm):
        shutil.copy2(os.path.join(frm, f), os.path.join(h.data, f))


def _verify_witnesses(h):
    r = subprocess.run([ARGS.ctihub, "audit", "verify", "--witnesses", "--data", h.data],
                                     capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


def test_partners_witness_each_others_audit_trail():
    """Issue 15 item 7: each sync pass hands the peer this hub's signed audit
    head and keeps the peer's; `audit verify --witnesses` checks the local
    trail against what every peer holds: a trail cut back to an earlier state,
    or replaced by another one with its own key, is detected though it
    verifies on its own; the peer then refuses the shorter head."""
    a = Hub(ARGS.ctihub, "wit-a")
    b = Hub(ARGS.ctihub, "wit-b")
    stranger = Hub(ARGS.ctihub, "wit-c")
    with a, b, stranger:
        a.setup().start()
        b.setup()
        stranger.setup()
        b.cli("peer", "add", "a", "--url", "http://127.0.0.1:%d/taxii2/" % a.port, "--collection",
              a.collections["shared"], "--local-collection", "shared", "--org", "acme",
              "--direction", "pull", "--user", "olga", "--password-stdin",
              stdin=a.passwords["olga"] + "\n")
        before = os.path.join(b.dir, "trail-before")
        _save_trail(b, before)

        res = sync_json(b)
        w = peer_of(res, "a").get("witness", {})
        check(peer_of(res, "a").get("ok") and w.get("acknowledged_seq", 0) > 0 and w.get("held_seq", 0) > 0,
              "the pass exchanges signed heads: %r" % peer_of(res, "a"))
        rc, out = _verify_witnesses(b)
        check(rc == 0 and "witness a: ok" in out, "B's trail matches what A holds: %d %r" % (rc, out))
        show = b.cli("peer", "show", "a")
        check("witness_acknowledged\tthis hub's audit head %d" % w.get("acknowledged_seq", -1) in show,
              "peer show lists the head A acknowledged: %r" % show)
        trail_a = a.cli("audit", "show", "--action", "witness.held")
        check("witness.held" in trail_a and "olga" in trail_a, "A audits what it holds: %r" % trail_a[-400:])

        # A second pass: A holds B's newer head, B A's.
        res = sync_json(b)
        w2 = peer_of(res, "a").get("witness", {})
        check(w2.get("acknowledged_seq", 0) > w.get("acknowledged_seq", 0), "the held head moves on: %r" % w2)

        # B's trail cut back to its state before the syncs: it verifies on its
        # own (same key, intact chain), but not against A's copy.
        _restore_trail(b, before)
        r = subprocess.run([ARGS.ctihub, "audit", "verify", "--data", b.data],
                                         capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "the cut trail verifies on its own: %r" % r.stdout)
        rc, out = _verify_witnesses(b)
        check(rc == 1 and "witness a: BROKEN" in out, "the cut is detected against A's copy: %d %r" % (rc, out))

        # Replaced by another hub's whole trail, key and pinned key included.
        other = os.path.join(b.dir, "trail-other")
        _save_trail(stranger, other)
        _restore_trail(b, other)
        # The peer's credentials were sealed with the replaced node key: whoever
        # replaced it adds the peer again (they know the password).
        b.cli("peer", "remove", "a")
        b.cli("peer", "add", "a", "--url", "http://127.0.0.1:%d/taxii2/" % a.port, "--collection",
              a.collections["shared"], "--local-collection", "shared", "--org", "acme",
              "--direction", "pull", "--user", "olga", "--password-stdin",
              stdin=a.passwords["olga"] + "\n")
        r = subprocess.run([ARGS.ctihub, "audit", "verify", "--data", b.data],
                                         capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "the replaced trail verifies on its own: %r" % r.stdout)
        rc, out = _verify_witnesses(b)
        check(rc == 1 and "witness a: BROKEN" in out,
              "a replaced trail and key are detected against A's copy: %d %r" % (rc, out))

        # The shorter head is refused by A when handed over: B's pass fails, loudly.
        res = sync_json(b)
        p = peer_of(res, "a")
        check(not p.get("ok") and "trail" in p.get("witness", {}).get("error", ""),
              "A refuses a head behind the one it holds: %r" % p)
        trail_a = a.cli("audit", "show", "--action", "witness.held")
        refusal = [l for l in trail_a.splitlines() if "witness.held" in l and " 409 " in l]
        check(len(refusal) == 1, "A audits the refusal (status 409): %r" % trail_a[-600:])
        shown = json.loads(a.cli("audit", "show", "--action", "witness.held", "--json").splitlines()[0])
        check("trail_regressed" in json.dumps(shown) or "trail_rewritten" in json.dumps(shown),
              "the refusal's reason is in its record: %r" % shown)


if __name__ == "__main__":
    sys.exit(run_tests([test_three_hubs_exchange_under_the_agreements_and_sightings_go_back,
                        test_partners_witness_each_others_audit_trail]))
