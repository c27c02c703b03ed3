#!/usr/bin/env python3
"""End to end: restart persistence, kill -9 durability (every acknowledged
object survives and the database passes PRAGMA integrity_check), pagination
that returns every object exactly once while writes happen concurrently, and
graceful shutdown that drains in-flight requests."""
import json
import os
import signal
import socket
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hub as hubmod  # noqa: E402
from hub import Hub, check, indicator, parse_args, run_tests  # noqa: E402

ARGS = parse_args()


def integrity_ok(data_dir):
    db = sqlite3.connect(os.path.join(data_dir, "ctihub.db"))
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()


def all_ids(hub, col):
    objs, _ = hub.get_all(col, "match[version]=all", limit=1000)
    return [o["id"] for o in objs]


def test_restart_persistence():
    with Hub(ARGS.ctihub, "restart") as hub:
        hub.setup().start()
        objs = [indicator(i) for i in range(120)]
        hub.post_and_wait("shared", objs)
        status = hub.post_objects("acme", [indicator(1000)]).json()
        hub.wait_status(status["id"])
        rc = hub.stop()
        check(rc == 0, "clean exit on SIGTERM: %r" % rc)
        hub.start()
        ids = all_ids(hub, "shared")
        check(sorted(ids) == sorted(o["id"] for o in objs), "objects survive a restart (%d)" % len(ids))
        r = hub.get("/api1/status/%s/" % status["id"])
        check(r.status == 200 and r.json()["status"] == "complete", "status survives a restart")
        check(len(hub.get("/api1/collections/").json()["collections"]) == 2, "collections survive")
        hub.stop()
        check(integrity_ok(hub.data), "integrity_check after restart")


def test_kill9_durability():
    with Hub(ARGS.ctihub, "kill9") as hub:
        hub.setup().start()
        acked = []
        # Acknowledged writes (status complete) in several batches.
        for b in range(8):
            objs = [indicator(b * 100 + i) for i in range(50)]
            hub.post_and_wait("shared", objs)
            acked += [o["id"] for o in objs]
        # Writes in flight when the process dies: may or may not survive; never corrupt.
        posted = []
        for b in range(3):
            r = hub.post_objects("shared", [indicator(9000 + b * 100 + i) for i in range(50)])
            posted.append(r.status)
        hub.kill9()
        check(integrity_ok(hub.data), "integrity_check after kill -9")
        hub.start()
        ids = set(all_ids(hub, "shared"))
        missing = [i for i in acked if i not in ids]
        check(not missing, "every acknowledged object survives kill -9 (%d missing)" % len(missing))
        check(all(s == 202 for s in posted), "in-flight POSTs were accepted")
        hub.stop()
        check(integrity_ok(hub.data), "integrity_check after restart")


def test_paging_under_concurrent_writes():
    with Hub(ARGS.ctihub, "paging") as hub:
        hub.setup().start()
        initial = [indicator(i) for i in range(400)]
        for k in range(0, 400, 100):
            hub.post_and_wait("shared", initial[k:k + 100])
        stop = threading.Event()
        written = []
        errors = []

        def writer():
            n = 0
            while not stop.is_set():
                objs = [indicator(50000 + n + i) for i in range(10)]
                n += 10
                try:
                    r = hub.post_objects("shared", objs)
                    if r.status != 202:
                        errors.append(r.status)
                    written.extend(o["id"] for o in objs)
                except Exception as e:  # noqa: BLE001
                    errors.append(repr(e))
                time.sleep(0.005)

        t = threading.Thread(target=writer)
        t.start()
        try:
            for limit in (13, 64):
                got, pages = hub.get_all("shared", "match[version]=all", limit=limit)
                ids = [o["id"] for o in got]
                check(len(ids) == len(set(ids)), "limit=%d: no object twice under writes" % limit)
                missing = {o["id"] for o in initial} - set(ids)
                check(not missing, "limit=%d: every pre-existing object once (%d missing)" % (limit, len(missing)))
        finally:
            stop.set()
            t.join()
        check(not errors, "concurrent writes accepted: %r" % errors[:5])
        check(len(written) > 0, "writes happened during paging")
        # After the writer: a fresh walk sees every object written (once complete).
        time.sleep(0.5)
        deadline = time.time() + 20
        while time.time() < deadline:
            ids = all_ids(hub, "shared")
            if len(set(ids)) == 400 + len(written):
                break
            time.sleep(0.2)
        check(len(ids) == len(set(ids)) == 400 + len(written), "final walk: %d vs %d" % (len(ids), 400 + len(written)))


def test_graceful_shutdown_drains():
    """A request in flight when SIGTERM arrives (its headers are read, half its
    body is still on the way) is finished and answered; new connections are
    refused; the server exits 0 and the objects of the drained POST are durable."""
    with Hub(ARGS.ctihub, "drain") as hub:
        hub.setup().start()
        objs = [indicator(i) for i in range(200)]
        body = json.dumps({"objects": objs}).encode()
        head = ("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nAccept: %s\r\nContent-Type: %s\r\n"
                "Content-Length: %d\r\n\r\n" % (hub.objects_path("shared"), hub.auth("alice"), hubmod.TAXII,
                                                 hubmod.TAXII, len(body))).encode()
        s = socket.create_connection(("127.0.0.1", hub.port), timeout=20)
        s.sendall(head + body[: len(body) // 2])
        time.sleep(0.5)  # the server has read the headers: the request is in flight
        hub.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        refused = False
        try:
            socket.create_connection(("127.0.0.1", hub.port), timeout=2).close()
        except OSError:
            refused = True
        check(refused, "no new connections while draining")
        s.sendall(body[len(body) // 2:])
        got = b""
        while True:
            try:
                c = s.recv(65536)
            except OSError:
                break
            if not c:
                break
            got += c
        s.close()
        check(got.startswith(b"HTTP/1.1 202"), "in-flight POST answered during drain: %r" % got[:100])
        check(b"Connection: close" in got or b"connection: close" in got.lower(), "drained response closes")
        rc = hub.stop(sig=None, timeout=30)  # already signalled once
        check(rc == 0, "exit 0 after drain: %r" % rc)
        hub.start()
        ids = set(all_ids(hub, "shared"))
        check(all(o["id"] in ids for o in objs), "objects of the drained POST are stored")


if __name__ == "__main__":
    rc = run_tests([test_restart_persistence, test_kill9_durability, test_paging_under_concurrent_writes,
                    test_graceful_shutdown_drains])
    sys.exit(1 if hubmod.FAILURES else rc)
