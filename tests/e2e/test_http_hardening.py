#!/usr/bin/env python3
"""End to end: the HTTP front against hostile framing and memory exhaustion
(issue 12 items 1, 2 and 14). Bodies are read only after the credentials are
checked and never past the API root's max_content_length; a Transfer-Encoding
other than plain `chunked` is refused and the connection closed, so bytes after
the headers never run as a second request; `Authorization: Token` works like
`Bearer`. Every loop is bounded in count and time."""
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hub as hubmod  # noqa: E402
from hub import TAXII, Hub, check, indicator, parse_args, run_tests  # noqa: E402

ARGS = parse_args()
HUB = None
MIB = 1024 * 1024


def status_of(raw):
    try:
        return int(raw.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS for %d" % pid)


def objects_path():
    return "/api1/collections/%s/objects/" % HUB.collections["shared"]


def post_head(extra, auth=True):
    h = "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n" % (objects_path(), TAXII)
    if auth:
        h += "Authorization: %s\r\n" % HUB.auth("alice")
    return (h + extra + "\r\n").encode()


def read_until_close(s, timeout):
    """Everything the server sends until it closes or `timeout` seconds pass; (data, closed)."""
    deadline = time.time() + timeout
    got = b""
    while time.time() < deadline:
        s.settimeout(max(0.05, deadline - time.time()))
        try:
            c = s.recv(65536)
        except socket.timeout:
            return got, False
        except ConnectionResetError:
            return got, True
        if not c:
            return got, True
        got += c
    return got, False


def test_unauthenticated_uploads_do_not_grow_memory():
    # 16 connections each announce a 50 MB body without credentials and push
    # 24 MiB of it. Before the fix the server buffered every byte (RSS grew by
    # hundreds of MB); now each is refused on its headers (401) and closed.
    pid = HUB.proc.pid
    before = rss_bytes(pid)
    socks = []
    statuses = []
    chunk = b"a" * MIB
    try:
        for _ in range(16):
            s = socket.create_connection(("127.0.0.1", HUB.port), timeout=5)
            socks.append(s)
            s.sendall(post_head("Content-Length: 50000000\r\n", auth=False))
            try:
                for _ in range(24):
                    s.sendall(chunk)
            except OSError:
                pass  # refused: the server closed the connection
        peak = rss_bytes(pid)
        for s in socks:
            got, _ = read_until_close(s, 3)
            statuses.append(status_of(got))
    finally:
        for s in socks:
            s.close()
    # One more, sending only its headers: the 401 comes without waiting for the body.
    s = socket.create_connection(("127.0.0.1", HUB.port), timeout=5)
    try:
        s.sendall(post_head("Content-Length: 50000000\r\n", auth=False))
        got, closed = read_until_close(s, 3)
    finally:
        s.close()
    check(status_of(got) == 401 and b'"http_status":"401"' in got, "refused on its headers: %r" % got[:200])
    check(closed, "connection closed after a refused body")
    grown = peak - before
    print("RSS before %.1f MB, with 16 uploads open %.1f MB" % (before / MIB, peak / MIB))
    check(grown < 64 * MIB, "16 unauthenticated 24 MiB uploads grew the server by %.1f MB" % (grown / MIB))
    check(all(st in (401, None) for st in statuses), "unauthenticated uploads: %r" % statuses)
    check(HUB.get("/taxii2/").status == 200, "server still serves")


def test_body_over_root_limit_refused_from_headers():
    # api1 allows 256 KiB: a 1 MiB Content-Length is refused before any body byte is sent.
    s = socket.create_connection(("127.0.0.1", HUB.port), timeout=5)
    try:
        s.sendall(post_head("Content-Length: %d\r\n" % MIB))
        got, closed = read_until_close(s, 3)
    finally:
        s.close()
    check(status_of(got) == 413, "over max_content_length, announced: %r" % got[:200])
    check(b"max_content_length" in got and b'"http_status":"413"' in got, "413 names the limit: %r" % got[-300:])
    check(closed, "connection closed after a refused body")
    # The same size sent chunked is cut at the root's limit.
    s = socket.create_connection(("127.0.0.1", HUB.port), timeout=5)
    try:
        s.sendall(post_head("Transfer-Encoding: chunked\r\n"))
        try:
            for _ in range(16):
                s.sendall(b"%x\r\n%s\r\n" % (65536, b"a" * 65536))
        except OSError:
            pass
        got, closed = read_until_close(s, 3)
    finally:
        s.close()
    check(status_of(got) == 413, "over max_content_length, chunked: %r" % got[:200])


def smuggled_post(oid):
    body = json.dumps({"objects": [indicator(1, oid=oid)]}).encode()
    return post_head("Content-Length: %d\r\n" % len(body)) + body


def check_not_smuggled(te, oid):
    raw = post_head("Transfer-Encoding: %s\r\n" % te) + smuggled_post(oid)
    s = socket.create_connection(("127.0.0.1", HUB.port), timeout=5)
    try:
        s.sendall(raw)
        got, closed = read_until_close(s, 3)
    finally:
        s.close()
    check(status_of(got) in (400, 501), "Transfer-Encoding %r: status %r" % (te, got[:200]))
    check(got.count(b"HTTP/1.1 ") == 1, "Transfer-Encoding %r: one response only: %r" % (te, got[:400]))
    check(closed, "Transfer-Encoding %r: connection closed" % te)
    time.sleep(0.3)
    r = HUB.get(objects_path() + oid + "/")
    check(r.status == 404, "Transfer-Encoding %r: the smuggled POST never ran (GET: %d)" % (te, r.status))


def test_transfer_encoding_smuggling():
    for te in ["chunked, identity", "gzip, chunked", "identity", "chunked\r\nTransfer-Encoding: chunked",
               "chunked\r\nContent-Length: 5"]:
        check_not_smuggled(te, "indicator--" + __import__("uuid").uuid4().hex[:8] + "-1111-4111-8111-111111111111")
    # gzip before chunked: a well-formed chunked body, whose gzip coding was ignored before.
    oid = "indicator--" + __import__("uuid").uuid4().hex[:8] + "-2222-4222-8222-222222222222"
    body = json.dumps({"objects": [indicator(2, oid=oid)]}).encode()
    s = socket.create_connection(("127.0.0.1", HUB.port), timeout=5)
    try:
        s.sendall(post_head("Transfer-Encoding: gzip, chunked\r\n") +
                  b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        got, closed = read_until_close(s, 3)
    finally:
        s.close()
    check(status_of(got) in (400, 501) and closed, "gzip, chunked refused and closed: %r" % got[:200])
    time.sleep(0.3)
    check(HUB.get(objects_path() + oid + "/").status == 404, "gzip, chunked: nothing stored")
    # Plain chunked still works, and keep-alive after it.
    body = json.dumps({"objects": [indicator(7)]}).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    s = socket.create_connection(("127.0.0.1", HUB.port), timeout=5)
    try:
        s.sendall(post_head("Transfer-Encoding: chunked\r\n") + chunked +
                  b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nAuthorization: " + HUB.auth("alice").encode() +
                  b"\r\nConnection: close\r\n\r\n")
        got, _ = read_until_close(s, 3)
    finally:
        s.close()
    check(status_of(got) == 202, "plain chunked POST: %r" % got[:200])
    check(got.count(b"HTTP/1.1 200") == 1, "keep-alive after a chunked POST: %r" % got[-300:])


def test_token_scheme():
    token = HUB.tokens["alice"]
    r = HUB.request("GET", "/taxii2/", user=None, headers={"Authorization": "Token " + token})
    check(r.status == 200, "Authorization: Token is accepted like Bearer (%d)" % r.status)
    r = HUB.request("GET", "/taxii2/", user=None, headers={"Authorization": "Token nope"})
    check(r.status == 401, "a wrong Token is 401 (%d)" % r.status)


def test_threads_are_bounded():
    """Regression (issue 12 item 5): `serve --threads 100000` started 100,000
    threads and failed later with a misleading database error."""
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        p = subprocess.run([ARGS.ctihub, "serve", "--data", d, "--listen", "127.0.0.1:0",
                            "--threads", "100000"], capture_output=True, text=True, timeout=30)
    check(p.returncode == 2, "serve --threads 100000 exits 2 (got %d)" % p.returncode)
    check("threads must be between 0 and 256" in p.stderr, "names the bound: %r" % p.stderr)


def main():
    global HUB
    with Hub(ARGS.ctihub, "http") as hub:
        HUB = hub
        hub.setup().start()
        rc = run_tests([test_unauthenticated_uploads_do_not_grow_memory,
                        test_body_over_root_limit_refused_from_headers,
                        test_transfer_encoding_smuggling, test_token_scheme,
                        test_threads_are_bounded])
        code = hub.stop()
        check(code == 0, "server exits 0 (got %r)" % code)
    return 1 if hubmod.FAILURES else rc


if __name__ == "__main__":
    sys.exit(main())
