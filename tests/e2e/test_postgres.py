#!/usr/bin/env python3
"""Two hub nodes over one PostgreSQL (issue 16): write through node A, read through node B;
the database stops and comes back; a schema newer than the build is refused.

The test runs its own throwaway cluster (scripts/pg_test_cluster.sh in its temp dir), so it
can stop the server without disturbing other tests. If the cluster cannot start, it fails.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from hub import Hub, check, indicator, parse_args, run_tests  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLUSTER = os.path.join(ROOT, "scripts", "pg_test_cluster.sh")
ARGS = parse_args()
STATE = tempfile.mkdtemp(prefix="ctihub-e2e-pg-")


def cluster(action):
    subprocess.run([CLUSTER, action, STATE], check=True, timeout=120, capture_output=True)


def url():
    with open(os.path.join(STATE, "url")) as f:
        return f.read().strip()


def psql(sql):
    return subprocess.run(["psql", url(), "-qtAc", sql], check=True, capture_output=True,
                          text=True, timeout=60).stdout.strip()


def two_nodes():
    """Node A (set up with users, tokens and collections in the database) and node B (its own
    data directory, nothing else): both serve the same database."""
    a = Hub(ARGS.ctihub, "pg-a", db=url()).setup()
    b = Hub(ARGS.ctihub, "pg-b", db=url())
    b.cli("init")
    b.passwords, b.tokens, b.collections = a.passwords, a.tokens, a.collections
    return a.start(), b.start()


def test_write_on_a_read_on_b():
    a, b = two_nodes()
    with a, b:
        objs = [indicator() for _ in range(25)]
        r = a.post_objects("shared", objs)
        check(r.status == 202, "POST via A: %d %s" % (r.status, r.body[:200]))
        status = b.wait_status(r.json()["id"])  # the status is in the database
        check(status["success_count"] == 25, "status read via B: %r" % status)
        got, pages = b.get_all("shared", limit=7)
        check(sorted(o["id"] for o in got) == sorted(o["id"] for o in objs),
              "B serves every object A took, once (%d objects, %d pages)" % (len(got), pages))
        check(pages == 4, "paged with next: %d pages" % pages)
        # A reader token created through A's CLI authenticates on B.
        r = b.get("/taxii2/", user="bob")
        check(r.status == 200, "B knows users from the database: %d" % r.status)


def test_database_down_answers_503_and_recovers():
    a, b = two_nodes()
    with a, b:
        a.post_and_wait("shared", [indicator()])
        r = a.get("/healthz")
        check(r.status == 200 and r.body.startswith(b"ok"), "healthy: %d %r" % (r.status, r.body))
        cluster("server-stop")
        try:
            r = a.get(a.objects_path("shared"))
            check(r.status == 503, "GET with the database down: %d %s" % (r.status, r.body[:200]))
            body = r.json() if r.status == 503 else {}
            check("title" in body and "http_status" in body, "a TAXII error object: %r" % body)
            r = a.get("/healthz")
            check(r.status == 503 and b"unhealthy: db_unavailable" in r.body,
                  "/healthz unhealthy: %d %r" % (r.status, r.body))
            check(a.proc.poll() is None and b.proc.poll() is None, "nodes keep running")
        finally:
            cluster("server-start")
        # Both nodes reconnect by themselves.
        deadline = time.time() + 30
        ok = False
        while time.time() < deadline and not ok:
            ra = a.get(a.objects_path("shared"))
            rb = b.get(b.objects_path("shared"))
            ok = ra.status == 200 and rb.status == 200
            if not ok:
                time.sleep(0.2)
        check(ok, "both nodes serve again after the database came back")
        got, _ = b.get_all("shared")
        check(len(got) == 1, "the acknowledged object is still there: %d" % len(got))
        check(a.get("/healthz").status == 200, "healthy again")


def test_import_on_one_node_export_on_another():
    """`ctihub import --db` through node A's data directory, `export --db` through B's: the
    objects are in the database, not in either directory."""
    a, b = two_nodes()
    with a, b:
        objs = [indicator(n) for n in range(5)]
        bundle = os.path.join(a.dir, "bundle.json")
        with open(bundle, "w") as f:
            json.dump({"type": "bundle", "id": "bundle--" + str(uuid.uuid4()), "objects": objs}, f)
        out = a.cli("import", "--collection", "shared", "--root", "api1", "--org", "acme", bundle)
        check("5" in out, "import via A: %s" % out[-200:])
        path = os.path.join(b.dir, "export.json")
        b.cli("export", "--format", "stix", "--collection", "shared", "--root", "api1",
              "--as-user", "bob", "-o", path)
        with open(path) as f:
            exported = json.load(f)
        check(sorted(o["id"] for o in exported.get("objects", [])) == sorted(o["id"] for o in objs),
              "export via B has the five objects: %r" % [o.get("id") for o in exported.get("objects", [])])


def test_node_killed_and_restarted_while_the_other_ingests():
    """kill -9 node A mid-ingest and start it again while node B ingests (issue 16): start-up
    recovery is per node, so B's statuses are never failed by A's recovery and B goes on
    serving; every status either node acknowledged as complete is durable; A's `audit verify`
    cross-checks A's trail with the versions A stored (B's are in B's trail) and is intact."""
    a, b = two_nodes()
    with a, b:
        stop = threading.Event()
        acked = {"a": [], "b": []}  # (status id, object ids) answered 202
        b_errors = []

        def ingest(node, key):
            while not stop.is_set():
                objs = [indicator() for _ in range(10)]
                try:
                    r = node.post_objects("shared", objs)
                except Exception as e:  # node A killed or not yet back
                    if key == "b":
                        b_errors.append(repr(e))
                    time.sleep(0.02)
                    continue
                if r.status == 202:
                    acked[key].append((r.json()["id"], [o["id"] for o in objs]))
                elif key == "b":
                    b_errors.append("POST via B answered %d" % r.status)

        threads = [threading.Thread(target=ingest, args=(a, "a")),
                   threading.Thread(target=ingest, args=(b, "b"))]
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)
            a.kill9()
            time.sleep(0.3)
            a.start()
            time.sleep(1.0)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
        check(not b_errors, "B served throughout: %r" % b_errors[:3])
        check(len(acked["b"]) > 0 and len(acked["a"]) > 0,
              "both nodes took writes (A %d, B %d)" % (len(acked["a"]), len(acked["b"])))
        stored = set(o["id"] for o in a.get_all("shared")[0])
        lost_b = 0
        for sid, ids in acked["b"]:
            st = b.wait_status(sid)
            if st.get("failure_count") != 0 or st.get("success_count") != len(ids):
                lost_b += 1
            check(all(i in stored for i in ids), "B's objects of status %s are served" % sid)
        check(lost_b == 0, "no status of B failed by A's restart (%d of %d)" % (lost_b, len(acked["b"])))
        for sid, ids in acked["a"]:
            st = a.wait_status(sid)  # pending at the kill: finished by A's recovery
            ok = [x["id"] for x in st.get("successes", [])]
            check(all(i in stored for i in ok), "A's acknowledged objects of %s are served" % sid)
        a.stop()
        b.stop()
        v = a.cli("audit", "verify", check_rc=False)
        check(v.startswith("intact") and "every stored version recorded" in v,
              "A's audit verify against its own versions: %s" % v[-300:])
        v = b.cli("audit", "verify", check_rc=False)
        check(v.startswith("intact") and "every stored version recorded" in v,
              "B's audit verify against its own versions: %s" % v[-300:])


def test_newer_schema_is_refused():
    a = Hub(ARGS.ctihub, "pg-new", db=url())
    with a:
        a.cli("init")
        version = psql("SELECT max(version) FROM ctihub_schema")
        psql("UPDATE ctihub_schema SET version = version + 1")
        try:
            a.start()
            check(False, "serve started on a newer schema")
        except RuntimeError as e:
            check("schema_too_new" in str(e) and "newer than this build" in str(e),
                  "serve refuses a newer schema and says so: %s" % str(e)[-300:])
        a.proc = None
        r = subprocess.run([ARGS.ctihub, "migrate", "--db", url()], capture_output=True, text=True,
                           timeout=60)
        check(r.returncode != 0 and "schema_too_new" in r.stderr, "migrate refuses it too")
        psql("UPDATE ctihub_schema SET version = %s" % version)
        r = subprocess.run([ARGS.ctihub, "migrate", "--db", url()], capture_output=True, text=True,
                           timeout=60)
        check(r.returncode == 0 and ("version %s" % version) in r.stdout,
              "migrate: %d %s %s" % (r.returncode, r.stdout, r.stderr))


def main():
    try:
        cluster("start")
    except subprocess.CalledProcessError as e:
        print("cannot start the test PostgreSQL:", e.stderr.decode(errors="replace"))
        return 1
    try:
        # Each test in a fresh database state: tests share one cluster but drop the schema.
        tests = [test_write_on_a_read_on_b, test_database_down_answers_503_and_recovers,
                 test_import_on_one_node_export_on_another,
                 test_node_killed_and_restarted_while_the_other_ingests,
                 test_newer_schema_is_refused]

        def fresh(t):
            def run():
                psql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
                t()
            run.__name__ = t.__name__
            return run
        return run_tests([fresh(t) for t in tests])
    finally:
        cluster("stop")
        shutil.rmtree(STATE, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
