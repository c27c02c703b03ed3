#!/usr/bin/env python3
"""GET /api/v1/export/{format} streamed (issue 13), end to end.

50,000 indicators in one collection. The HTTP export comes as a chunked body
(no Content-Length) equal byte for byte to the CLI's; the server's RSS stays
far below the body's size while a slow client reads it; a client that goes
away mid-stream leaves the server serving, and its export is audited as
aborted with only part of the objects; If-None-Match with the ETag answers
304 without an export record, and a new object changes the ETag. Loopback
only; every loop is bounded.
"""
import json
import os
import socket
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub import Hub, check, parse_args, run_tests, two_nodes  # noqa: E402

ARGS = None
N = 50000
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
PATH = "/api/v1/export/stix?collection=shared&root=api1"
# ~600 bytes per indicator: a body (~50 MB) well above the server's caches that
# fill as it reads and audits (store readers 16 MiB each, audit 32 MiB).
NOTE = "bulk load for the streaming test; " * 18


def run(hub, *args):
    r = subprocess.run([hub.ctihub] + list(args) + ["--data", hub.data], capture_output=True,
                       text=True, timeout=240)
    return r.returncode, r.stdout, r.stderr


def indicator(i):
    return {"type": "indicator", "spec_version": "2.1",
            "id": "indicator--00000000-0000-4000-8000-%012d" % i,
            "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-02T00:00:00.000Z",
            "name": "bulk %d" % i, "description": NOTE, "pattern": "[domain-name:value = 'bulk-%d.example']" % i,
            "pattern_type": "stix", "valid_from": "2025-01-01T00:00:00Z",
            "object_marking_refs": [GREEN]}


def setup_hub(hub):
    hub.setup()
    path = os.path.join(hub.dir, "bulk.json")
    with open(path, "w") as f:
        json.dump({"type": "bundle", "id": "bundle--" + str(uuid.uuid4()),
                   "objects": [indicator(i) for i in range(N)]}, f)
    rc, out, err = run(hub, "import", "--collection", "shared", "--root", "api1", "--org", "acme",
                       "--json", path)
    check(rc == 0, "import of %d indicators (%d): %s %s" % (N, rc, out[-300:], err[-300:]))


def cli_export(hub, user):
    path = os.path.join(hub.dir, "cli-%s.json" % uuid.uuid4().hex[:8])
    rc, out, err = run(hub, "export", "--format", "stix", "--as-user", user, "--collection",
                       "shared", "--root", "api1", "-o", path)
    check(rc == 0, "CLI export exits 0 (%d): %s" % (rc, err[-300:]))
    with open(path, "rb") as f:
        return f.read()


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Stream:
    """A raw HTTP/1.1 GET whose chunked body is read by hand (and slowly if asked)."""

    def __init__(self, hub, path, user, rcvbuf=None, extra=""):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(30)
        self.s.connect(("127.0.0.1", hub.port))
        req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\n%s"
               "Connection: close\r\n\r\n" % (path, hub.auth(user), extra))
        self.s.sendall(req.encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            c = self.s.recv(65536)
            if not c:
                break
            self.buf += c
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()

    def recv(self, n=65536):
        c = self.s.recv(n)
        if not c:
            raise EOFError()
        self.buf += c

    def body(self, pause=0.0, step=65536, on_read=None):
        """Decodes the chunked body; (bytes, complete)."""
        out = []
        try:
            while True:
                while b"\r\n" not in self.buf:
                    self.recv(step)
                line, _, self.buf = self.buf.partition(b"\r\n")
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    while len(self.buf) < 2:
                        self.recv(step)
                    return b"".join(out), self.buf.startswith(b"\r\n")
                while len(self.buf) < size + 2:
                    self.recv(step)
                    if pause:
                        time.sleep(pause)
                    if on_read:
                        on_read()
                out.append(self.buf[:size])
                self.buf = self.buf[size + 2:]
        except (EOFError, ConnectionResetError, socket.timeout):
            return b"".join(out), False

    def close(self):
        self.s.close()


def export_records(hub, user):
    rc, out, err = run(hub, "audit", "show", "--json", "--limit", "0", "--action", "export",
                       "--user", user)
    check(rc == 0, "audit show exits 0: %s" % err[-300:])
    return json.loads(out) if rc == 0 else []


def by_export(records):
    exports = {}
    for r in records:
        d = r["details"] if isinstance(r["details"], dict) else json.loads(r["details"])
        e = exports.setdefault(d["export_id"], {"objects": 0, "aborted": False, "last": False})
        e["objects"] += len(r.get("objects") or [])
        e["aborted"] = e["aborted"] or d.get("aborted", False)
        e["last"] = e["last"] or d.get("last", False)
    return exports


def test_streamed_export():
    with Hub(ARGS.ctihub, "export-stream") as hub:
        setup_hub(hub)
        cli = cli_export(hub, "bob")
        check(len(cli) > 40 * 1024 * 1024, "the export is big: %d bytes" % len(cli))
        hub.start()
        pid = hub.proc.pid

        # (a) chunked, no Content-Length, byte for byte the CLI's.
        s = Stream(hub, PATH, "bob")
        check(s.status == 200, "export: 200 (%d)" % s.status)
        check(s.headers.get("transfer-encoding") == "chunked" and "content-length" not in s.headers,
              "a chunked body without Content-Length: %s" % s.headers)
        etag = s.headers.get("etag", "")
        check(etag.startswith('W/"') and etag.endswith('"'), "a weak ETag: %s" % etag)
        body, complete = s.body()
        s.close()
        check(complete, "the body ends with the last chunk")
        check(body == cli, "HTTP export is the CLI's byte for byte (%d vs %d bytes)"
              % (len(body), len(cli)))

        # (b) a slow reader: the server does not build the body ahead of it, and
        # its RSS stays far below the body's size while the reader takes it all.
        if two_nodes(hub):
            # The node copies its audit trail into the database within 250 ms of a
            # record: (a)'s export record names all 50,000 objects. Let that copy end
            # before the baseline, so it is not counted as the stream's memory.
            time.sleep(1.0)
        base = rss_kb(pid)
        peak = [base]

        def sample():
            peak[0] = max(peak[0], rss_kb(pid))

        s = Stream(hub, PATH, "bob", rcvbuf=64 * 1024)
        for _ in range(40):  # ~2.5 MB, slowly
            s.recv(65536)
            sample()
            time.sleep(0.05)
        time.sleep(1.0)  # the reader stalls: so does the server
        sample()
        stalled = (peak[0] - base) * 1024
        body, complete = s.body(on_read=sample)
        s.close()
        growth = (peak[0] - base) * 1024
        print("RSS before %d KiB; +%d KiB with the reader stalled, +%d KiB at the peak; body %d bytes"
              % (base, stalled // 1024, growth // 1024, len(cli)))
        check(complete and body == cli, "the slow reader gets the whole body")
        check(stalled < len(cli) // 4, "RSS growth with the reader stalled (%d bytes) is well below"
              " the body's %d bytes: nothing built ahead of the reader" % (stalled, len(cli)))
        check(growth < len(cli) // 2, "RSS growth over the whole slow read (%d bytes, caches "
              "included) stays well below the body's %d bytes" % (growth, len(cli)))

        # (c) a client that goes away mid-stream; the server serves on.
        before = by_export(export_records(hub, "bob"))
        s = Stream(hub, PATH, "bob", rcvbuf=64 * 1024)
        for _ in range(10):
            s.recv(65536)
        s.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()  # RST
        r = hub.get("/healthz", user=None, accept=None)
        check(r.status == 200, "healthz after a client went away: %d" % r.status)
        r = hub.get(PATH, user="bob", accept=None, timeout=120)
        check(r.status == 200 and r.body == cli, "a full export after it (%d)" % r.status)

        # (d) 304 on the ETag without an export record; a new object: a new ETag.
        n_exports = len(by_export(export_records(hub, "bob")))
        r = hub.get(PATH, user="bob", accept=None, headers={"If-None-Match": etag})
        check(r.status == 304 and r.body == b"", "If-None-Match with the ETag: 304 (%d)" % r.status)
        check(len(by_export(export_records(hub, "bob"))) == n_exports, "a 304 records no export")
        hub.post_and_wait("shared", [indicator(N + 1)], user="alice")
        r = hub.get(PATH, user="bob", accept=None, headers={"If-None-Match": etag}, timeout=120)
        check(r.status == 200 and r.header("ETag") != etag and b"bulk-%d.example" % (N + 1) in r.body,
              "a new indicator: 200, a new ETag (%d %s)" % (r.status, r.header("ETag")))
        hub.stop()

        # The aborted export is recorded as aborted, with only part of the objects.
        after = by_export(export_records(hub, "bob"))
        new = [e for k, e in after.items() if k not in before]
        aborted = [e for e in new if e["aborted"]]
        check(len(aborted) == 1, "one export recorded as aborted: %s" % new)
        if aborted:
            check(aborted[0]["objects"] < N, "the aborted export names only what was sent: %d"
                  % aborted[0]["objects"])
        whole = [e for e in after.values() if not e["aborted"]]
        check(all(e["objects"] == N or e["objects"] == N + 1 for e in whole),
              "every whole export names every object: %s" % whole)


if __name__ == "__main__":
    ARGS = parse_args()
    # Under AddressSanitizer (make check) freed memory waits in a quarantine
    # (256 MB by default) instead of being reused, so RSS would count every piece
    # already sent. Without a quarantine RSS measures what the server holds; a
    # build without ASan ignores the variable.
    os.environ["ASAN_OPTIONS"] = ":".join(
        o for o in (os.environ.get("ASAN_OPTIONS", ""), "quarantine_size_mb=0",
                    "thread_local_quarantine_size_kb=0") if o)
    sys.exit(run_tests([test_streamed_export]))
