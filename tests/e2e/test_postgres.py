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
                 test_import_on_one_node_export_on_another, test_newer_schema_is_refused]

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
