"""Shared helpers of the end-to-end tests (Python 3 stdlib only).

A Hub is a real `ctihub` data directory in a temp dir with an API root, two
organisations, users, tokens and collections, plus a server started on
127.0.0.1 port 0 whose chosen port is read from its stdout. Every test starts
its own hub and stops it at the end (also on failure).
"""
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

TAXII = "application/taxii+json;version=2.1"
FAILURES = []

# Two-node mode (e2e.pg.NAME in CMakeLists.txt): with CTIHUB_E2E_PG_URL_FILE set,
# every Hub made without `db` gets a fresh database of that PostgreSQL cluster, its
# server is two `ctihub serve --db` nodes with their own data directories, and
# requests go to the nodes in turn, as a load balancer would send them; the CLI
# runs on node A's directory. The database is dropped when the hub is cleaned up.
PG_URL_FILE = os.environ.get("CTIHUB_E2E_PG_URL_FILE")


def _pg_admin_url():
    with open(PG_URL_FILE) as f:
        return f.read().strip()


def _pg_database_url(admin_url, name):
    """The cluster's URL with another database name (postgresql://[HOST]/DB?...)."""
    import re
    m = re.match(r"^(postgres(?:ql)?://[^/?]*)(/[^?]*)?(\?.*)?$", admin_url)
    if not m:
        raise RuntimeError("not a postgresql:// URL: %r" % admin_url)
    return m.group(1) + "/" + name + (m.group(3) or "")


def _psql(url, sql):
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True,
                   capture_output=True, text=True, timeout=60)


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)
    return cond


def run_tests(tests):
    """Runs each test function; prints a summary; returns the exit code."""
    started = time.time()
    for t in tests:
        before = len(FAILURES)
        t0 = time.time()
        try:
            t()
        except Exception as e:  # a crash of the test itself is a failure
            import traceback
            traceback.print_exc()
            FAILURES.append("%s raised %r" % (t.__name__, e))
        status = "ok" if len(FAILURES) == before else "FAILED"
        print("[%s] %s (%.1fs)" % (status, t.__name__, time.time() - t0), flush=True)
    print("%d tests, %d failures, %.1fs" % (len(tests), len(FAILURES), time.time() - started))
    return 1 if FAILURES else 0


def indicator(n=None, modified="2024-01-02T00:00:00.000Z", pattern=None, oid=None):
    oid = oid or "indicator--" + str(uuid.uuid4())
    return {
        "type": "indicator", "spec_version": "2.1", "id": oid,
        "created": "2024-01-01T00:00:00.000Z", "modified": modified,
        "name": "test indicator %s" % (n if n is not None else ""),
        "pattern": pattern or "[ipv4-addr:value = '198.51.100.%d']" % ((n or 1) % 250 + 1),
        "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z",
        "indicator_types": ["malicious-activity"],
    }


def malware(name="x"):
    return {"type": "malware", "spec_version": "2.1", "id": "malware--" + str(uuid.uuid4()),
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
            "name": name, "is_family": True, "malware_types": ["trojan"]}


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def two_nodes(hub):
    """Whether the hub is two nodes over PostgreSQL (requests alternate between them); also
    after hub.stop(), which forgets node B."""
    return bool(hub.pg_database)


def skip_in_two_nodes(hub, what, why):
    """True (and says so) when a check of per-node state cannot hold across two nodes."""
    if two_nodes(hub):
        print("two-node mode: skipped %s: %s" % (what, why), flush=True)
        return True
    return False


def eventually(hub, cond, timeout=3.0):
    """cond() now, or in two-node mode within `timeout` seconds: the other node sees a policy
    change at its next revision poll (every 250 ms), not at once (the bound is 1 s)."""
    deadline = time.time() + (timeout if two_nodes(hub) else 0)
    while True:
        if cond():
            return True
        if time.time() >= deadline:
            return False
        time.sleep(0.05)


class Hub:
    def __init__(self, ctihub, name="hub", keep=False, db=None):
        self.ctihub = ctihub
        self.db = db  # postgresql://... : every command and the server get --db
        self.dir = tempfile.mkdtemp(prefix="ctihub-e2e-%s-" % name)
        self.data = os.path.join(self.dir, "var")
        self.proc = None
        self.port = None
        self.stderr_path = os.path.join(self.dir, "server.stderr")
        self.passwords = {}
        self.tokens = {}
        self.collections = {}
        self.tls = False
        self.url = None
        self.nodes = []  # (proc, port, url) of node B onward (two-node mode)
        self._turn = 0
        self.pg_database = None
        if db is None and PG_URL_FILE:
            self.pg_database = "e2e_" + uuid.uuid4().hex[:16]
            _psql(_pg_admin_url(), "CREATE DATABASE " + self.pg_database)
            self.db = _pg_database_url(_pg_admin_url(), self.pg_database)
            # Tests that run `ctihub` themselves (not through cli()) reach the same
            # database through CTIHUB_DB, the default of every command's --db.
            os.environ["CTIHUB_DB"] = self.db

    # ---- admin CLI ----
    def cli(self, *args, stdin=None, check_rc=True):
        if args and args[0] != "init":
            self._sync_policy_files()
        extra = ["--db", self.db] if self.db else []
        r = subprocess.run([self.ctihub] + list(args) + ["--data", self.data] + extra, input=stdin,
                           capture_output=True, text=True, timeout=60)
        if check_rc and r.returncode != 0:
            raise RuntimeError("ctihub %s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr))
        return r.stdout.strip()

    def _sync_policy_files(self):
        """Two-node mode: the policy files a test wrote into node A's data directory are
        imported into the database (`ctihub policy import`, as an operator moving a hub to
        PostgreSQL does) before the next command or server start, whenever they changed."""
        if not self.pg_database:
            return
        texts = []
        for name in ("policy.toml", "agreements.toml"):
            try:
                with open(os.path.join(self.data, name), "rb") as f:
                    texts.append(f.read())
            except OSError:
                texts.append(None)
        if texts == getattr(self, "_imported_policy", [None, None]):
            return
        subprocess.run([self.ctihub, "policy", "import", "--data", self.data, "--db", self.db],
                       check=True, capture_output=True, timeout=60)
        self._imported_policy = texts

    def run_cli(self, *args, stdin=None, timeout=120):
        """(returncode, stdout, stderr) of `ctihub ARGS --data DIR [--db URL]`, unchecked."""
        if args and args[0] != "init":
            self._sync_policy_files()
        extra = ["--db", self.db] if self.db else []
        r = subprocess.run([self.ctihub] + list(args) + ["--data", self.data] + extra, input=stdin,
                           capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout, r.stderr

    def sql(self, query):
        """The rows of a read-only SQL query on the hub's store, one text line per row:
        sqlite3 on DIR/ctihub.db, or psql on the hub's PostgreSQL database."""
        if self.db:
            cmd = ["psql", self.db, "-XAtqc", query]
        else:
            cmd = ["sqlite3", os.path.join(self.data, "ctihub.db"), query]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (cmd[0], r.returncode, r.stderr))
        return r.stdout

    def setup(self):
        """acme (alice admin-less publisher, bob reader), other (olga publisher), root admin."""
        self.cli("init")
        self.cli("api-root", "add", "api1", "--title", "API one", "--max-content-length", str(256 * 1024))
        self.cli("api-root", "add", "api2", "--title", "API two")
        self.cli("org", "add", "acme")
        self.cli("org", "add", "other")
        for user, org, role in [("alice", "acme", "publisher"), ("bob", "acme", "reader"),
                                ("olga", "other", "publisher"), ("root", "acme", "admin")]:
            pw = "pw-" + user + "-" + uuid.uuid4().hex[:8]
            self.cli("user", "add", user, "--org", org, "--role", role, "--password-stdin", stdin=pw + "\n")
            self.passwords[user] = pw
            self.tokens[user] = self.cli("token", "create", "--user", user, "--label", "e2e")
        self.collections["shared"] = self.cli("collection", "add", "--root", "api1", "--title", "Shared",
                                              "--alias", "shared", "--readers", "acme,other",
                                              "--writers", "acme")
        self.collections["acme"] = self.cli("collection", "add", "--root", "api1", "--title", "Acme only",
                                            "--readers", "acme", "--writers", "acme")
        self.collections["inbox"] = self.cli("collection", "add", "--root", "api1", "--title", "Inbox",
                                             "--writers", "other")
        self.collections["api2"] = self.cli("collection", "add", "--root", "api2", "--title", "Two",
                                            "--readers", "acme", "--writers", "acme")
        return self

    # ---- server ----
    def start(self, *extra):
        self._sync_policy_files()
        self.proc, self.url = self._start_node(self.data, self.stderr_path, extra)
        self.tls = self.url.startswith("https://")
        self.port = int(self.url.rsplit(":", 1)[1])
        if self.pg_database:
            self._start_node_b(extra)
        return self

    def _start_node(self, data, stderr_path, extra):
        """Starts `ctihub serve` on DATA; returns (process, URL it listens on)."""
        args = [self.ctihub, "serve", "--data", data, "--listen", "127.0.0.1:0", "--threads", "2"]
        if self.db:
            args += ["--db", self.db]
        args += list(extra)
        stderr_file = open(stderr_path, "ab")
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=stderr_file)
        stderr_file.close()  # the child has its own copy
        deadline = time.time() + 30
        line = b""
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith(b"listening on "):
                # Keep draining stdout so the server never blocks on a full pipe.
                threading.Thread(target=self._drain, args=(proc.stdout,), daemon=True).start()
                return proc, line.decode().split()[2]
        proc.kill()
        proc.wait()
        raise RuntimeError("server did not start: %r; stderr: %s" % (line, self.tail_stderr(path=stderr_path)))

    def _start_node_b(self, extra):
        """Node B: its own data directory over the same database (the sharing
        policy is in the database too); TLS files named in `extra` are node A's."""
        data_b = os.path.join(self.dir, "var-b")
        if not os.path.isdir(data_b):
            subprocess.run([self.ctihub, "init", "--data", data_b, "--db", self.db], check=True,
                           capture_output=True, timeout=60)
        proc, url = self._start_node(data_b, os.path.join(self.dir, "server-b.stderr"), extra)
        self.nodes = [(proc, int(url.rsplit(":", 1)[1]))]
        print("two nodes over %s: %s and %s" % (self.pg_database, self.url, url), flush=True)

    def next_port(self):
        """The port of the node the next request goes to (node A only, unless two-node mode)."""
        ports = [self.port] + [p for _, p in self.nodes]
        self._turn += 1
        return ports[self._turn % len(ports)]

    @staticmethod
    def _drain(f):
        for _ in iter(lambda: f.read(4096), b""):
            pass

    def tail_stderr(self, n=2000, path=None):
        try:
            with open(path or self.stderr_path, "rb") as f:
                return f.read()[-n:].decode(errors="replace")
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=30):
        self._stop_node_b(sig)
        if self.proc is None:
            return None
        if self.proc.poll() is None and sig is not None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            FAILURES.append("server did not stop within %ds after signal %d" % (timeout, sig))
        self.proc = None
        return rc

    def _stop_node_b(self, sig):
        for proc, _ in self.nodes:
            if proc.poll() is None:
                proc.send_signal(sig if sig is not None else signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.nodes = []

    def kill9(self):
        self._stop_node_b(signal.SIGKILL)
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.pg_database:
            if os.environ.get("CTIHUB_DB") == self.db:
                del os.environ["CTIHUB_DB"]
            _psql(_pg_admin_url(), "DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.pg_database)
            self.pg_database = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            if self.proc is not None and self.proc.poll() is not None and self.proc.returncode not in (0, None):
                print("server exited with", self.proc.returncode, self.tail_stderr())
        finally:
            self.cleanup()

    # ---- HTTP ----
    def auth(self, user, basic=False):
        if user is None:
            return None
        if basic:
            raw = ("%s:%s" % (user, self.passwords[user])).encode()
            return "Basic " + base64.b64encode(raw).decode()
        return "Bearer " + self.tokens[user]

    def request(self, method, path, body=None, user="alice", basic=False, accept=TAXII,
                content_type=TAXII, headers=None, timeout=30):
        h = {}
        if accept is not None:
            h["Accept"] = accept
        a = self.auth(user, basic)
        if a:
            h["Authorization"] = a
        if body is not None:
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            if isinstance(body, str):
                body = body.encode()
            if content_type is not None:
                h["Content-Type"] = content_type
        h.update(headers or {})
        port = self.next_port()
        if self.tls:
            import ssl
            conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout,
                                               context=ssl._create_unverified_context())
        else:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def objects_path(self, col, suffix=""):
        return "/api1/collections/%s/objects/%s" % (self.collections.get(col, col), suffix)

    def post_objects(self, col, objects, user="alice", root="api1"):
        return self.request("POST", "/%s/collections/%s/objects/" % (root, self.collections.get(col, col)),
                            body={"objects": objects}, user=user)

    def wait_status(self, status_id, user="alice", root="api1", timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = self.get("/%s/status/%s/" % (root, status_id), user=user)
            if r.status == 200 and r.json()["status"] == "complete":
                return r.json()
            time.sleep(0.02)
        raise RuntimeError("status %s not complete after %ds" % (status_id, timeout))

    def post_and_wait(self, col, objects, user="alice"):
        r = self.post_objects(col, objects, user=user)
        if r.status != 202:
            raise RuntimeError("POST answered %d: %s" % (r.status, r.body[:500]))
        return self.wait_status(r.json()["id"], user=user)

    def get_all(self, col, query="", user="alice", limit=None):
        """Pages through the objects endpoint; returns (objects, pages)."""
        out, pages, nxt = [], 0, None
        while True:
            q = query
            if limit:
                q += ("&" if q else "") + "limit=%d" % limit
            if nxt:
                q += ("&" if q else "") + "next=" + urlquote(nxt)
            r = self.get(self.objects_path(col, "?" + q if q else ""), user=user)
            if r.status != 200:
                raise RuntimeError("GET answered %d: %s" % (r.status, r.body[:300]))
            env = r.json()
            out += env.get("objects", [])
            pages += 1
            if not env.get("more"):
                return out, pages
            nxt = env["next"]
            if pages > 100000:
                raise RuntimeError("paging does not end")

    def raw(self, data, read_timeout=5.0, shut_write=False):
        """Sends raw bytes on a fresh connection; returns everything read until close/timeout."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=read_timeout)
        try:
            if data:
                s.sendall(data)
            if shut_write:
                s.shutdown(socket.SHUT_WR)
            chunks = []
            while True:
                try:
                    c = s.recv(65536)
                except socket.timeout:
                    break
                except ConnectionResetError:
                    break
                if not c:
                    break
                chunks.append(c)
            return b"".join(chunks)
        finally:
            s.close()


def urlquote(s):
    import urllib.parse
    return urllib.parse.quote(s, safe="")


def parse_args():
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--ctihub", required=True)
    return p.parse_args()
