#!/usr/bin/env python3
"""End to end: `ctihub sync` pulls from peers. Hub B pulls from hub A exactly what
A's policy lets B's credentials (org `other` on A) read; a second run stores
nothing new; objects added to A later arrive on the next run (the durable
cursor); a peer that is down makes sync exit 1 while another peer still syncs;
a peer sending invalid STIX or foreign producers gets those objects refused
with reasons (counted, audited), the rest stored with their created_by_ref; a
sync killed with kill -9 mid-pull and re-run loses and duplicates nothing; a
peer whose lock (DATA/sync/PEER.lock) another pass holds is reported busy by
`ctihub sync` (exit 1, the other peer syncs) and skipped by serve's scheduler
until the lock is released."""
import fcntl
import json
import os
import socket
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_taxii import COLLECTION, FakeTaxiiServer  # noqa: E402
from hub import Hub, check, indicator, parse_args, run_tests  # noqa: E402

ARGS = parse_args()
CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
AMBER_STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"

# A's policy for the push test: acme shares up to AMBER with the community
# (so with other), stripping x_notes; no direct agreement.
PUSH_POLICY = """
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
id = "acme-to-circle"
producer = "org:acme"
recipient = "community:circle"
max_tlp = "amber"
object_types = ["*"]
strip_properties = ["x_notes"]
legal_basis = "e2e test"
"""
DIRECT_STRICT = """
[[agreement]]
id = "acme-to-other-strict"
producer = "org:acme"
recipient = "org:other"
max_tlp = "amber+strict"
object_types = ["*"]
strip_properties = ["x_notes"]
legal_basis = "e2e test"
"""


def marked(n, tlp):
    o = indicator(n)
    o["object_marking_refs"] = [tlp]
    return o


def sync(hub, *args, wait=True):
    cmd = [ARGS.ctihub, "sync"] + list(args) + ["--data", hub.data, "--attempts", "1"]
    if not wait:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def sync_json(hub, *args):
    r = sync(hub, "--json", *args)
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        doc = {"ok": False, "peers": []}
        check(False, "sync --json printed no JSON: %r %s" % (r.stdout, r.stderr))
    return r.returncode, {p["name"]: p for p in doc["peers"]}, r


def identities(hub):
    out = {}
    for line in hub.cli("org", "list").splitlines():
        parts = line.split()
        ids = [p for p in parts if p.startswith("identity--")]
        if parts and ids:
            out[parts[0]] = ids[0]
    return out


def receiving_hub(a, name):
    """A hub with A's organisations (same identities), an admin and a collection 'shared'."""
    b = Hub(ARGS.ctihub, name)
    b.cli("init")
    b.cli("api-root", "add", "api1", "--title", "API one")
    for org, ident in identities(a).items():
        b.cli("org", "add", org, "--identity-id", ident)
    b.cli("user", "add", "root", "--org", "acme", "--role", "admin", "--password-stdin", stdin="pw-root-sync-e2e\n")
    b.passwords["root"] = "pw-root-sync-e2e"
    b.tokens["root"] = b.cli("token", "create", "--user", "root", "--label", "e2e")
    b.collections["shared"] = b.cli("collection", "add", "--root", "api1", "--title", "Shared",
                                    "--alias", "shared", "--readers", "acme,other", "--writers", "acme")
    return b


def add_peer(b, name, url, collection, org="acme", user=None, password=None):
    args = ["peer", "add", name, "--url", url, "--collection", collection, "--local-collection",
            "shared", "--org", org, "--direction", "pull"]
    if user:
        args += ["--user", user, "--password-stdin"]
    b.cli(*args, stdin=(password + "\n") if password else None)


def versions_in(b):
    """Every (id, modified) version in B's collection, read by B's admin over TAXII."""
    b.start()
    try:
        objs, _ = b.get_all("shared", query="match[version]=all", user="root")
    finally:
        b.stop()
    return [(o["id"], o.get("modified")) for o in objs], {o["id"]: o for o in objs}


def add_push_peer(a, name, url, collection, user=None, password=None):
    args = ["peer", "add", name, "--url", url, "--collection", collection, "--local-collection",
            "shared", "--org", "other", "--direction", "push"]
    if user:
        args += ["--user", user, "--password-stdin"]
    a.cli(*args, stdin=(password + "\n") if password else None)


def all_versions(hub, user):
    objs, _ = hub.get_all("shared", query="match[version]=all", user=user)
    return {(o["id"], o.get("modified")): o for o in objs}


def closed_port_url():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return "http://127.0.0.1:%d/taxii2/" % port


def test_pull_policy_rerun_cursor_and_down_peer():
    with Hub(ARGS.ctihub, "sync-a") as a:
        a.setup().start()
        objs = [marked(i, CLEAR) for i in range(1, 4)] + [marked(i, AMBER) for i in range(4, 6)]
        a.post_and_wait("shared", objs)
        readable, _ = a.get_all("shared", user="olga")
        want = {o["id"] for o in readable}
        check(0 < len(want) < len(objs), "A's policy lets org other read some, not all: %d of %d"
              % (len(want), len(objs)))
        with receiving_hub(a, "sync-b") as b:
            url = "http://127.0.0.1:%d/taxii2/" % a.port
            add_peer(b, "a", url, a.collections["shared"], user="olga", password=a.passwords["olga"])
            rc, peers, r = sync_json(b)
            p = peers.get("a", {})
            check(rc == 0 and p.get("ok"), "first sync ok: %d %r %s" % (rc, r.stdout, r.stderr))
            check(p.get("pulled") == len(want) and p.get("stored") == len(want) and p.get("refused") == 0,
                  "pulled and stored exactly what A lets other read: %r" % p)
            versions, by_id = versions_in(b)
            check({i for i, _ in versions} == want, "B holds exactly A's readable set: %r vs %r"
                  % (sorted(i for i, _ in versions), sorted(want)))
            ident = identities(a)["acme"]
            check(all(o.get("created_by_ref") == ident for o in by_id.values()),
                  "created_by_ref kept (acme's identity)")
            check(all(o.get("object_marking_refs") == [CLEAR] for o in by_id.values()), "markings kept")

            rc, peers, r = sync_json(b)
            p = peers.get("a", {})
            check(rc == 0 and p.get("stored") == 0 and p.get("pulled") == 0,
                  "a re-run stores nothing new (the cursor): %r" % p)

            later = [marked(i, CLEAR) for i in range(10, 12)] + [marked(12, AMBER)]
            a.post_and_wait("shared", later)
            # A peer that is down fails alone; the other peer still syncs.
            add_peer(b, "down", closed_port_url(), "c")
            r = sync(b)
            check(r.returncode == 1, "a down peer makes sync exit 1: %d %r" % (r.returncode, r.stdout))
            lines = {l.split("\t")[0]: l for l in r.stdout.splitlines()}
            check("FAILED" in lines.get("down", "") and "error:" in lines.get("down", ""),
                  "the down peer is reported failed: %r" % r.stdout)
            check("\tok\t" in lines.get("a", "") + "\t" and "stored 2\t" in lines.get("a", ""),
                  "the other peer still stores the 2 readable objects added later: %r" % r.stdout)
            versions, _ = versions_in(b)
            check({i for i, _ in versions} == want | {o["id"] for o in later[:2]},
                  "later objects arrived, AMBER still not")
            check(len(versions) == len(set(versions)), "no version twice")
            rc, peers, r = sync_json(b, "a")
            check(rc == 0 and set(peers) == {"a"} and peers["a"].get("stored") == 0,
                  "sync NAME syncs only that peer: %r" % r.stdout)
            # Each pass of `ctihub sync` adds to the peer's totals (peer show, /metrics).
            show = b.cli("peer", "show", "a")
            check("passes\t4 (0 failed)" in show, "four passes of a counted: %r" % show)
            check("objects\tpulled %d, stored %d, refused 0" % (len(want) + 2, len(want) + 2) in show,
                  "pulled and stored totals: %r" % show)
            down = b.cli("peer", "show", "down")
            check("passes\t1 (1 failed)" in down and "last_error\t" in down,
                  "the down peer's failure counted with its error: %r" % down)
            trail = b.cli("audit", "show", "--action", "sync.pulled")
            check(trail.count("sync.pulled") >= 4, "every pass audited: %r" % trail[-400:])
            written = b.cli("audit", "show", "--action", "object.written")
            check("sync peer a" in written, "object.written names the peer: %r" % written[-400:])
            check(b.cli("audit", "verify") is not None, "the trail verifies")


def test_refused_objects_and_unknown_producer():
    with Hub(ARGS.ctihub, "sync-src") as src:
        src.setup()  # only for organisations with identities to share
        with receiving_hub(src, "sync-c") as b, FakeTaxiiServer(n_objects=0, page_size=2) as fake:
            idents = identities(b)
            unknown = "identity--" + str(uuid.uuid4())
            ok_own = marked(1, CLEAR)
            ok_own["created_by_ref"] = idents["acme"]
            ok_unknown = marked(2, AMBER)
            ok_unknown["created_by_ref"] = unknown
            foreign = marked(3, CLEAR)
            foreign["created_by_ref"] = idents["other"]
            invalid = marked(4, CLEAR)
            del invalid["pattern"]
            fake.state.objects = [ok_own, ok_unknown, foreign, invalid]
            add_peer(b, "fake", fake.url, COLLECTION)
            rc, peers, r = sync_json(b)
            p = peers.get("fake", {})
            check(rc == 0 and p.get("pulled") == 4 and p.get("stored") == 2 and p.get("refused") == 2,
                  "2 stored, 2 refused: %d %r" % (rc, p))
            reasons = p.get("refused_by_reason", {})
            check(reasons.get("producer_not_allowed") == 1 and len(reasons) == 2,
                  "refusals have reasons: %r" % reasons)
            refused_ids = {x["object"] for x in p.get("refusals", [])}
            check(refused_ids == {foreign["id"], invalid["id"]}, "the refused objects named: %r" % refused_ids)
            trail = b.cli("audit", "show", "--action", "sync.pulled", "--json")
            check("producer_not_allowed" in trail and foreign["id"] in trail, "refusals audited: %r" % trail[-600:])
            _, by_id = versions_in(b)
            check(set(by_id) == {ok_own["id"], ok_unknown["id"]}, "the rest stored: %r" % sorted(by_id))
            check(by_id.get(ok_unknown["id"], {}).get("created_by_ref") == unknown,
                  "an unknown producer's created_by_ref is kept")
            # Shared locally as the peer organisation's: acme's reader sees the AMBER object.
            b.cli("user", "add", "amy", "--org", "acme", "--role", "reader", "--password-stdin", stdin="pw-amy-sync-e2e\n")
            b.tokens["amy"] = b.cli("token", "create", "--user", "amy", "--label", "e2e")
            b.start()
            try:
                seen, _ = b.get_all("shared", user="amy")
            finally:
                b.stop()
            check(ok_unknown["id"] in {o["id"] for o in seen},
                  "the unknown producer's AMBER object is readable by the peer org (acme)")


def test_kill9_mid_pull_then_rerun():
    with Hub(ARGS.ctihub, "sync-k") as a:
        a.setup().start()
        for chunk in range(6):
            a.post_and_wait("shared", [marked(100 + chunk * 10 + i, CLEAR) for i in range(10)])
        readable, _ = a.get_all("shared", user="olga")
        want = {o["id"] for o in readable}
        with receiving_hub(a, "sync-l") as b:
            url = "http://127.0.0.1:%d/taxii2/" % a.port
            add_peer(b, "a", url, a.collections["shared"], user="olga", password=a.passwords["olga"])
            proc = sync(b, "--limit", "5", "--pause-ms-for-test", "300", wait=False)
            cursor = os.path.join(b.data, "sync", "a.cursor")
            deadline = time.time() + 30
            while time.time() < deadline and not os.path.exists(cursor):
                time.sleep(0.01)
            time.sleep(0.45)  # a page or two further
            proc.kill()
            proc.wait()
            check(os.path.exists(cursor), "the cursor was saved before the kill")
            partial, _ = versions_in(b)
            check(0 < len(partial) < len(want), "killed mid-pull: %d of %d stored" % (len(partial), len(want)))
            r = sync(b)
            check(r.returncode == 0, "the re-run succeeds: %r %s" % (r.stdout, r.stderr))
            versions, _ = versions_in(b)
            check({i for i, _ in versions} == want, "nothing lost: %d of %d" % (len(versions), len(want)))
            check(len(versions) == len(set(versions)), "nothing duplicated")
            rc, peers, _ = sync_json(b)
            check(rc == 0 and peers.get("a", {}).get("stored") == 0, "a third run stores nothing")
            b.cli("audit", "verify")


def test_kill9_mid_push_then_rerun():
    """A `ctihub sync` killed with kill -9 between two POSTs of a push: the
    re-run sends the rest from the durable push cursor; the receiving hub ends
    with every version once."""
    with Hub(ARGS.ctihub, "push-k") as a:
        a.setup().start()
        sent = [marked(300 + i, CLEAR) for i in range(60)]
        for chunk in range(6):
            a.post_and_wait("shared", sent[chunk * 10:(chunk + 1) * 10])
        want = {o["id"] for o in sent}
        with receiving_hub(a, "push-l") as b:
            b.cli("user", "add", "feeder", "--org", "acme", "--role", "publisher", "--password-stdin",
                  stdin="pw-feeder-kill-e2e\n")
            b.start()
            a.cli("peer", "add", "b", "--url", "http://127.0.0.1:%d/taxii2/" % b.port, "--collection",
                  b.collections["shared"], "--local-collection", "shared", "--org", "acme",
                  "--direction", "push", "--user", "feeder", "--password-stdin",
                  stdin="pw-feeder-kill-e2e\n")
            proc = sync(a, "--limit", "5", "--pause-ms-for-test", "300", wait=False)
            cursor = os.path.join(a.data, "sync", "b.push-cursor")
            deadline = time.time() + 30
            while time.time() < deadline and not os.path.exists(cursor):
                time.sleep(0.01)
            time.sleep(0.45)  # a POST or two further
            proc.kill()
            proc.wait()
            check(os.path.exists(cursor), "the push cursor was saved before the kill")
            partial = {o["id"] for o in b.get_all("shared", user="root")[0]}
            check(0 < len(partial) < len(want), "killed mid-push: %d of %d at B" % (len(partial), len(want)))
            rc, peers, r = sync_json(a)
            check(rc == 0 and peers.get("b", {}).get("ok"), "the re-run succeeds: %r" % r.stdout)
            check(0 < peers.get("b", {}).get("pushed", 0) <= len(want) - len(partial) + 5,
                  "the re-run sends from the cursor, not everything again: %r" % peers.get("b"))
            objs, _ = b.get_all("shared", query="match[version]=all", user="root")
            ids = [o["id"] for o in objs]
            check(set(ids) == want, "nothing lost: %d of %d" % (len(set(ids)), len(want)))
            check(len(ids) == len(set(ids)), "nothing duplicated")
            rc, peers, _ = sync_json(a)
            check(rc == 0 and peers.get("b", {}).get("push_sent") == 0, "a third run sends nothing")
            a.cli("audit", "verify")


def test_push_policy_rerun_versions_audit_and_down_peer():
    with Hub(ARGS.ctihub, "push-a") as a:
        a.setup()
        with open(os.path.join(a.data, "policy.toml"), "w") as f:
            f.write(PUSH_POLICY % identities(a))
        a.start()
        noted = []
        for n, tlp in [(1, CLEAR), (2, CLEAR), (3, AMBER), (4, AMBER_STRICT), (5, RED)]:
            o = marked(n, tlp)
            o["x_notes"] = "internal note %d" % n
            noted.append(o)
        clear1, clear2, amber, strict, red = noted
        a.post_and_wait("shared", noted)
        # An object of other's on A: other reads it (its own), B refuses it from
        # acme's account (a known foreign producer without a relay agreement).
        foreign = marked(6, CLEAR)
        path = os.path.join(a.dir, "other.json")
        with open(path, "w") as f:
            json.dump({"type": "bundle", "id": "bundle--" + str(uuid.uuid4()), "objects": [foreign]}, f)
        a.cli("import", "--collection", "shared", "--root", "api1", "--org", "other", path)
        readable = all_versions(a, "olga")
        ids = {i for i, _ in readable}
        check({clear1["id"], clear2["id"], amber["id"], foreign["id"]} == ids,
              "A's policy lets other read CLEAR, AMBER (by the community agreement) and its own, "
              "not AMBER+STRICT or RED: %r" % sorted(ids))
        amber_copy = [o for (i, _), o in readable.items() if i == amber["id"]]
        check(amber_copy and "x_notes" not in amber_copy[0], "other's copy of the AMBER object is redacted")

        with receiving_hub(a, "push-b") as b:
            b.cli("user", "add", "feeder", "--org", "acme", "--role", "publisher", "--password-stdin",
                  stdin="pw-feeder-push-e2e\n")
            b.start()
            add_push_peer(a, "b", "http://127.0.0.1:%d/taxii2/" % b.port, b.collections["shared"],
                          user="feeder", password="pw-feeder-push-e2e")
            rc, peers, r = sync_json(a)
            p = peers.get("b", {})
            want = {k: v for k, v in readable.items() if k[0] != foreign["id"]}
            check(rc == 0 and p.get("ok"), "first push ok: %d %r %s" % (rc, r.stdout, r.stderr))
            check(p.get("pushed") == len(want) and p.get("push_failed") == 1
                  and p.get("push_failed_by_reason") == {"producer_not_allowed": 1},
                  "pushed what other may read, B's refusal counted with its reason: %r" % p)
            check([f.get("object") for f in p.get("push_failures", [])] == [foreign["id"]],
                  "the refused object is named: %r" % p.get("push_failures"))
            got = all_versions(b, "root")
            check(set(got) == set(want), "B holds exactly what A lets other read (less B's refusal): "
                  "%r vs %r" % (sorted(got), sorted(want)))
            check(all(got.get(k) == v for k, v in want.items()),
                  "B's copies are the copies A serves other (redaction, created_by_ref, markings)")
            check(strict["id"] not in {i for i, _ in got} and red["id"] not in {i for i, _ in got},
                  "AMBER+STRICT and RED stay home without a direct agreement")
            cursor = os.path.join(a.data, "sync", "b.push-cursor")
            check(os.path.exists(cursor), "the push cursor is saved")

            rc, peers, r = sync_json(a)
            p = peers.get("b", {})
            check(rc == 0 and p.get("pushed") == 0 and p.get("push_failed") == 0 and p.get("posts") == 0,
                  "a re-run pushes nothing (the cursor; the refused object is not retried): %r" % p)

            # A new version of one object and a revocation of another.
            newer = dict(clear1, modified="2024-03-01T00:00:00.000Z", name="updated")
            revoked = dict(amber, modified="2024-03-02T00:00:00.000Z", revoked=True)
            a.post_and_wait("shared", [newer, revoked])
            # A push peer that is down fails alone; the other still pushes.
            add_push_peer(a, "down", closed_port_url(), "c")
            r = sync(a)
            check(r.returncode == 1, "a down peer makes sync exit 1: %d %r" % (r.returncode, r.stdout))
            lines = {l.split("\t")[0]: l for l in r.stdout.splitlines()}
            check("FAILED" in lines.get("down", "") and "push error:" in lines.get("down", ""),
                  "the down peer is reported failed: %r" % r.stdout)
            check("\tok\t" in lines.get("b", "") and "pushed 2\tfailed 0" in lines.get("b", ""),
                  "the other peer pushes the new version and the revocation: %r" % r.stdout)
            readable = all_versions(a, "olga")
            want = {k: v for k, v in readable.items() if k[0] != foreign["id"]}
            got = all_versions(b, "root")
            check(set(got) == set(want) and all(got.get(k) == v for k, v in want.items()),
                  "B holds every version other may read: %r vs %r" % (sorted(got), sorted(want)))
            rev = got.get((amber["id"], revoked["modified"]), {})
            check(rev.get("revoked") is True and "x_notes" not in rev, "the revocation arrived, redacted")
            rc, peers, r = sync_json(a, "b")
            check(rc == 0 and peers.get("b", {}).get("pushed") == 0, "then nothing again: %r" % r.stdout)

            trail = json.loads(a.cli("audit", "show", "--action", "sync.pushed", "--json"))
            records = trail if isinstance(trail, list) else trail.get("records", [])
            named = {(o.get("id"), o.get("version")) for rec in records for o in rec.get("objects", [])}
            check(set(want) <= named and foreign["id"] in {i for i, _ in named},
                  "every version sent is named by a sync.pushed record: %r" % sorted(named))
            check(not any(i in (strict["id"], red["id"]) for i, _ in named), "nothing withheld is named")
            check(all(rec.get("org") == "other" for rec in records), "the records name the peer's org")
            saw = json.loads(a.cli("audit", "who-saw", amber["id"], "--json"))
            pushed_to = [v for v in saw if v.get("action") == "sync.pushed"]
            check(len(pushed_to) == 2 and all(v.get("org") == "other" and v.get("redacted") for v in pushed_to)
                  and {v.get("version") for v in pushed_to} == {amber["modified"], revoked["modified"]},
                  "who-saw names other for both pushed versions, redacted: %r" % saw)

            # A direct agreement lets AMBER+STRICT leave to other (RED still needs other named
            # as a recipient). The cursor passed the first version while it was withheld, so
            # what leaves is the next version.
            with open(os.path.join(a.data, "policy.toml"), "w") as f:
                f.write((PUSH_POLICY + DIRECT_STRICT) % identities(a))
            a.stop()
            a.start()
            strict2 = dict(strict, modified="2024-04-01T00:00:00.000Z")
            a.post_and_wait("shared", [strict2])
            readable = all_versions(a, "olga")
            check((strict["id"], strict2["modified"]) in readable and
                  (red["id"], red["modified"]) not in readable,
                  "with the direct agreement other reads AMBER+STRICT, still not RED: %r" % sorted(readable))
            rc, peers, r = sync_json(a, "b")
            check(rc == 0 and peers.get("b", {}).get("pushed") == 1, "one version pushed: %r" % r.stdout)
            got = all_versions(b, "root")
            copy = got.get((strict["id"], strict2["modified"]))
            check(copy is not None and copy == readable[(strict["id"], strict2["modified"])]
                  and "x_notes" not in copy, "the AMBER+STRICT version arrived as other reads it")
            check(red["id"] not in {i for i, _ in got}, "RED still stays home")
            a.cli("audit", "verify")


def test_push_batches_fit_the_peer_max_content_length():
    with Hub(ARGS.ctihub, "push-s") as a:
        a.setup()
        small = [marked(200 + i, CLEAR) for i in range(5)]
        big = marked(299, CLEAR)
        big["description"] = "x" * 3000
        a.start()
        a.post_and_wait("shared", small[:3] + [big] + small[3:])
        served, _ = a.get_all("shared", user="olga")
        a.stop()
        # The POSTs a greedy split into envelopes of at most 1100 bytes makes
        # ({"objects":[...]}: 14 bytes and a comma between objects).
        limit, posts, body = 1100, 0, None
        for o in served:
            n = len(json.dumps(o, separators=(",", ":"), ensure_ascii=False).encode())
            if 14 + n > limit:
                continue
            if body is None or body + 1 + n > limit:
                posts, body = posts + 1, 14 + n
            else:
                body += 1 + n
        check(posts >= 3, "the fixture needs several POSTs: %d" % posts)
        with Hub(ARGS.ctihub, "push-t") as c:
            c.cli("init")
            c.cli("api-root", "add", "api1", "--title", "API one", "--max-content-length", str(limit))
            for org, ident in identities(a).items():
                c.cli("org", "add", org, "--identity-id", ident)
            c.cli("user", "add", "feeder", "--org", "acme", "--role", "publisher", "--password-stdin",
                  stdin="pw-feeder-push-e2e\n")
            c.cli("user", "add", "root", "--org", "acme", "--role", "admin", "--password-stdin",
                  stdin="pw-root-push-e2e\n")
            c.tokens["root"] = c.cli("token", "create", "--user", "root", "--label", "e2e")
            c.collections["shared"] = c.cli("collection", "add", "--root", "api1", "--title", "Shared",
                                            "--alias", "shared", "--readers", "acme", "--writers", "acme")
            c.start()
            add_push_peer(a, "c", "http://127.0.0.1:%d/taxii2/" % c.port, c.collections["shared"],
                          user="feeder", password="pw-feeder-push-e2e")
            rc, peers, r = sync_json(a)
            p = peers.get("c", {})
            check(rc == 0 and p.get("pushed") == 5 and p.get("push_failed") == 1
                  and p.get("push_failed_by_reason") == {"too_large": 1},
                  "5 pushed, the one larger than max_content_length counted too_large: %r" % r.stdout)
            check(p.get("posts") == posts, "the batches were split to fit 1100 bytes: %r POSTs, %d expected"
                  % (p.get("posts"), posts))
            got = all_versions(c, "root")
            check({i for i, _ in got} == {o["id"] for o in small}, "C holds the 5: %r" % sorted(got))
            rc, peers, r = sync_json(a)
            check(rc == 0 and peers.get("c", {}).get("posts") == 0, "nothing is retried: %r" % r.stdout)


def _wait_for(cond, timeout, step=0.2):
    """Polls cond() until true or timeout seconds passed (bounded in time and count)."""
    deadline = time.time() + timeout
    for _ in range(int(timeout / step) + 1):
        if cond():
            return True
        if time.time() >= deadline:
            break
        time.sleep(step)
    return cond()


def _sync_lines(hub, peer, state):
    with open(hub.stderr_path, "rb") as f:
        text = f.read().decode(errors="replace")
    return [l for l in text.splitlines() if ("sync pass: %s %s" % (peer, state)) in l]


def _metric(text, name, peer):
    """The value of NAME{peer="PEER"} in a /metrics text, or None."""
    prefix = '%s{peer="%s"} ' % (name, peer)
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix):])
    return None


def _check_peer_metrics(b, pulled_at_least):
    """Issue 15 item 8: per peer on /metrics (and in `peer show`) the last
    success, the lag, objects pulled/pushed and errors, from the passes the
    scheduler ran."""
    def pulled_so_far():
        r = b.get("/metrics", user="root")
        return _metric(r.body.decode(), "ctihub_peer_objects_pulled_total", "a") or 0

    # The objects are readable before their pass has ended and added its totals.
    _wait_for(lambda: pulled_so_far() >= pulled_at_least, 10)
    r = b.get("/metrics", user="root")
    check(r.status == 200, "/metrics answers an admin: %d" % r.status)
    text = r.body.decode()
    now = time.time()
    check(_metric(text, "ctihub_peer_last_pass_ok", "a") == 1.0, "the good peer's last pass is ok")
    check(_metric(text, "ctihub_peer_last_pass_ok", "down") == 0.0, "the down peer's last pass failed")
    last_ok = _metric(text, "ctihub_peer_last_success_timestamp_seconds", "a")
    check(last_ok is not None and now - 60 < last_ok <= now + 1,
          "the good peer succeeded within the last minute: %r" % last_ok)
    check(_metric(text, "ctihub_peer_last_success_timestamp_seconds", "down") is None,
          "the down peer never succeeded: no sample")
    lag = _metric(text, "ctihub_peer_lag_seconds", "a")
    check(lag is not None and 0 <= lag < 600, "the good peer's lag is a few seconds: %r" % lag)
    check(_metric(text, "ctihub_peer_lag_seconds", "down") is None, "nothing pulled from down: no lag")
    pulled = _metric(text, "ctihub_peer_objects_pulled_total", "a")
    check(pulled is not None and pulled >= pulled_at_least,
          "objects pulled from a counted: %r >= %d" % (pulled, pulled_at_least))
    check((_metric(text, "ctihub_peer_errors_total", "down") or 0) >= 2,
          "the down peer's failed passes counted")
    check(_metric(text, "ctihub_peer_errors_total", "a") == 0, "the good peer has no errors")
    check(_metric(text, "ctihub_peer_objects_pushed_total", "a") == 0, "a pull-only peer pushed nothing")
    # The console's /api/v1/peers (admins; scripts with a token) reports the same.
    r = b.get("/api/v1/peers", user="root", accept="application/json")
    peers = {p["name"]: p for p in json.loads(r.body).get("peers", [])} if r.status == 200 else {}
    check(r.status == 200 and peers.get("a", {}).get("last_pull") and peers["a"].get("lag_s") is not None
          and peers.get("down", {}).get("last_pull") is None and peers["down"].get("last_error"),
          "/api/v1/peers: %d %r" % (r.status, r.body[:400]))
    check(peers.get("a", {}).get("pulled", -1) >= pulled_at_least and "sealed" not in r.body.decode()
          and "password" not in r.body.decode(), "counts, and never credentials: %r" % peers.get("a"))
    show = dict(l.split("\t", 1) for l in b.cli("peer", "show", "a").splitlines() if "\t" in l)
    shown_pulled = int(show.get("objects", "pulled -1,").split(",")[0].split()[-1])
    check("lag_seconds" in show and show.get("last_success", "never") != "never"
          and shown_pulled >= pulled_at_least, "peer show prints the same totals: %r" % show)
    down = b.cli("peer", "show", "down")
    check("last_error\t" in down and "last_success\tnever" in down,
          "peer show names the down peer's error: %r" % down)


def test_serve_runs_peers_on_their_schedule():
    with Hub(ARGS.ctihub, "sync-sa") as a:
        a.setup().start()
        with receiving_hub(a, "sync-sb") as b:
            url = "http://127.0.0.1:%d/taxii2/" % a.port
            b.cli("peer", "add", "a", "--url", url, "--collection", a.collections["shared"],
                  "--local-collection", "shared", "--org", "acme", "--direction", "pull",
                  "--every", "1s", "--user", "olga", "--password-stdin", stdin=a.passwords["olga"] + "\n")
            b.cli("peer", "add", "down", "--url", closed_port_url(), "--collection", "c",
                  "--local-collection", "shared", "--org", "acme", "--direction", "pull", "--every", "1s")
            b.start()

            def on_b():
                objs, _ = b.get_all("shared", user="root")
                return {o["id"] for o in objs}

            first = [marked(i, CLEAR) for i in range(200, 203)]
            a.post_and_wait("shared", first)
            want = {o["id"] for o in first}
            check(_wait_for(lambda: want <= on_b(), 20),
                  "objects added on A reach B's TAXII within 20 s: %r" % b.tail_stderr(600))
            check(_wait_for(lambda: len(_sync_lines(b, "down", "FAILED")) >= 2, 20),
                  "the down peer keeps failing, each pass logged: %r" % b.tail_stderr(600))
            second = [marked(i, CLEAR) for i in range(210, 212)]
            a.post_and_wait("shared", second)
            want2 = want | {o["id"] for o in second}
            check(_wait_for(lambda: want2 <= on_b(), 20),
                  "the good peer still syncs while the other fails: %r" % b.tail_stderr(600))
            check(b.get("/taxii2/", user="root").status == 200, "B's TAXII keeps answering")
            check(len(_sync_lines(b, "a", "ok")) >= 2, "each pass of the good peer logged")
            _check_peer_metrics(b, pulled_at_least=len(want2))
            with open(b.stderr_path, "rb") as f:
                log = f.read().decode(errors="replace")
            check(a.passwords["olga"] not in log, "no secret in the log")
            t0 = time.time()
            rc = b.stop(timeout=20)
            took = time.time() - t0
            check(rc == 0 and took < 5, "SIGTERM stops B within 5 s with exit 0: rc %r, %.1fs" % (rc, took))
            versions, _ = versions_in(b)
            check(len(versions) == len(set(versions)), "no version twice")

            # --no-sync: the scheduler stays off.
            third = [marked(220, CLEAR)]
            a.post_and_wait("shared", third)
            b.start("--no-sync")
            time.sleep(2.5)
            check(third[0]["id"] not in on_b(), "--no-sync: nothing synced in the background")
            rc = b.stop(timeout=20)
            check(rc == 0, "stopped: %r" % rc)

            # A peer that accepts the connection and never answers: the good peer
            # still syncs; SIGTERM waits at most ~10 s for the hanging pass, then
            # cuts it (exit 0; the cursor makes that safe).
            hang = socket.socket()
            try:
                hang.bind(("127.0.0.1", 0))
                hang.listen(8)
                b.cli("peer", "add", "hang", "--url", "http://127.0.0.1:%d/taxii2/" % hang.getsockname()[1],
                      "--collection", "c", "--local-collection", "shared", "--org", "acme",
                      "--direction", "pull", "--every", "1s")
                b.start()
                check(_wait_for(lambda: third[0]["id"] in on_b(), 20),
                      "a hanging peer does not delay the good one: %r" % b.tail_stderr(600))
                t0 = time.time()
                rc = b.stop(timeout=30)
                took = time.time() - t0
                check(rc == 0 and took < 15, "SIGTERM with a hanging pass: exit 0 within 15 s: rc %r, %.1fs"
                      % (rc, took))
                check("still running at shutdown" in b.tail_stderr(2000), "the cut pass is logged")
            finally:
                hang.close()
            versions, _ = versions_in(b)
            check(len(versions) == len(set(versions)) and third[0]["id"] in {i for i, _ in versions},
                  "after the cut pass: nothing lost, nothing twice")


def _hold_peer_lock(hub, peer):
    """Holds DATA/sync/PEER.lock as a pass does (flock, our pid written); close() releases it."""
    os.makedirs(os.path.join(hub.data, "sync"), exist_ok=True)
    f = open(os.path.join(hub.data, "sync", peer + ".lock"), "a+")
    fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    f.seek(0)
    f.truncate()
    f.write("%d\n" % os.getpid())
    f.flush()
    return f


def test_a_peer_held_by_another_pass_is_busy():
    with Hub(ARGS.ctihub, "sync-la") as a:
        a.setup().start()
        objs = [marked(i, CLEAR) for i in range(300, 303)]
        a.post_and_wait("shared", objs)
        want = {o["id"] for o in objs}
        with receiving_hub(a, "sync-lb") as b:
            url = "http://127.0.0.1:%d/taxii2/" % a.port
            for name in ("one", "two"):
                b.cli("peer", "add", name, "--url", url, "--collection", a.collections["shared"],
                      "--local-collection", "shared", "--org", "acme", "--direction", "pull",
                      "--every", "1s", "--user", "olga", "--password-stdin",
                      stdin=a.passwords["olga"] + "\n")
            held = _hold_peer_lock(b, "one")
            try:
                rc, peers, r = sync_json(b)
                one, two = peers.get("one", {}), peers.get("two", {})
                busy = "peer_busy: another pass of peer one is running (pid %d)" % os.getpid()
                check(rc == 1 and not one.get("ok") and one.get("error") == busy,
                      "the held peer is busy, naming the holder's pid, exit 1: %d %r" % (rc, r.stdout))
                check(one.get("pulled") == 0 and not os.path.exists(os.path.join(b.data, "sync", "one.cursor")),
                      "the busy peer did nothing: %r" % one)
                check(two.get("ok") and two.get("stored") == len(want),
                      "the other peer still syncs: %r" % two)
                r = sync(b, "one")
                check(r.returncode == 1 and "one\tFAILED" in r.stdout and busy in r.stdout,
                      "sync NAME: busy in the text output too: %d %r" % (r.returncode, r.stdout))

                # serve's scheduler skips the held peer, one line a pass, and keeps the other.
                b.start()
                check(_wait_for(lambda: len([l for l in _sync_lines(b, "one", "skipped:") if busy in l]) >= 2, 20),
                      "serve skips the busy peer each interval: %r" % b.tail_stderr(600))
                check(not _sync_lines(b, "one", "ok") and not _sync_lines(b, "one", "FAILED"),
                      "no pass of the busy peer ran: %r" % b.tail_stderr(600))
                check(_wait_for(lambda: _sync_lines(b, "two", "ok"), 20), "the other peer syncs in serve")
            finally:
                held.close()
            # Released: serve's next pass of the peer runs.
            check(_wait_for(lambda: _sync_lines(b, "one", "ok"), 20),
                  "released: serve syncs the peer at the next interval: %r" % b.tail_stderr(600))
            rc = b.stop(timeout=20)
            check(rc == 0, "stopped: %r" % rc)
            rc, peers, r = sync_json(b)
            check(rc == 0 and peers.get("one", {}).get("ok") and peers.get("two", {}).get("ok"),
                  "released: sync runs both peers: %d %r" % (rc, r.stdout))
            versions, _ = versions_in(b)
            check({i for i, _ in versions} == want and len(versions) == len(set(versions)),
                  "each object once: %r" % versions)


if __name__ == "__main__":
    sys.exit(run_tests([test_pull_policy_rerun_cursor_and_down_peer,
                        test_refused_objects_and_unknown_producer,
                        test_kill9_mid_pull_then_rerun,
                        test_kill9_mid_push_then_rerun,
                        test_push_policy_rerun_versions_audit_and_down_peer,
                        test_push_batches_fit_the_peer_max_content_length,
                        test_serve_runs_peers_on_their_schedule,
                        test_a_peer_held_by_another_pass_is_busy]))
