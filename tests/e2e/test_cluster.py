#!/usr/bin/env python3
"""`make cluster` (scripts/cluster.sh, issue 16): PostgreSQL and two nodes with the demo data.

Each test runs the script with its own TMPDIR, so that whatever the script (and the
PostgreSQL of scripts/pg_test_cluster.sh) leaves behind is seen: after a stop the TMPDIR
must be empty and no node or PostgreSQL process may run. Ports are 0 (any free port), so
the test never collides with a `make serve` or `make cluster` on the machine. If PostgreSQL
cannot start, the tests fail (as e2e.postgres does).
"""
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from hub import Hub, check, indicator, parse_args, run_tests  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "scripts", "cluster.sh")
ARGS = parse_args()
START_TIMEOUT = 180  # PostgreSQL's initdb and start, the demo import, two nodes
STOP_TIMEOUT = 120   # two nodes' graceful stops (30 s each at most) and PostgreSQL's


def tmpdir():
    d = tempfile.mkdtemp(prefix="ctihub-e2e-cluster-")
    os.chmod(d, 0o755)  # under root, PostgreSQL runs as `postgres` in a directory in here
    return d


def env_with(tmp, **extra):
    env = dict(os.environ, TMPDIR=tmp)
    for name in ("KEEP", "CLUSTER_TLS", "CTIHUB_SERVE_FLAGS"):  # only what the test sets
        env.pop(name, None)
    env.update(extra)
    return env


def alive(pid):
    """The process exists and is not a zombie (PostgreSQL is not our child: nobody may reap it)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def under(tmp):
    """Live processes whose command line names a path in `tmp`: the nodes (--data) and the
    PostgreSQL postmaster (-D), whatever the script printed."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                if tmp.encode() in f.read() and alive(int(d)):
                    pids.append(int(d))
        except OSError:
            pass
    return pids


def wait_gone(pids, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline and any(alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if alive(p)]


class Cluster:
    """scripts/cluster.sh BIN 0 0 in the foreground, in its own process group (as a terminal
    runs `make cluster`); its stdout is read by a thread so the script never blocks on it."""

    def __init__(self, tmp, **env):
        self.proc = subprocess.Popen([SCRIPT, ARGS.ctihub, "0", "0"], env=env_with(tmp, **env),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.lines = queue.Queue()
        self.out = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in iter(self.proc.stdout.readline, b""):
            self.lines.put(line.decode(errors="replace"))
        self.lines.put(None)

    def wait_ready(self):
        """Reads the script's output until it waits for Ctrl-C; returns what it printed."""
        deadline = time.time() + START_TIMEOUT
        while time.time() < deadline:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.time()))
            except queue.Empty:
                break
            if line is None:
                break
            self.out.append(line)
            if line.startswith("== Ctrl-C stops"):
                return "".join(self.out)
        raise RuntimeError("cluster.sh did not get ready: %s" % "".join(self.out)[-3000:])

    def wait_exit(self):
        try:
            rc = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            check(False, "cluster.sh did not stop within %ds" % STOP_TIMEOUT)
            self.kill()
            return None
        rest = []
        while True:
            try:
                line = self.lines.get(timeout=5)
            except queue.Empty:
                break
            if line is None:
                break
            rest.append(line)
        self.out += rest
        return rc

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


def parse(out):
    """The nodes, PostgreSQL and demo credentials as cluster.sh prints them."""
    info = {"nodes": {}}
    for name, url, pid in re.findall(r"^== node ([AB]): (https?://127\.0\.0\.1:\d+) \(pid (\d+),", out, re.M):
        info["nodes"][name] = (url, int(pid))
    m = re.search(r"^== PostgreSQL: (\S+) \(pid (\d+)\)", out, re.M)
    info["pg_url"], info["pg_pid"] = (m.group(1), int(m.group(2))) if m else (None, None)
    m = re.search(r"^== starting PostgreSQL .* in (\S+)$", out, re.M)
    info["run"] = m.group(1) if m else None
    m = re.search(r"^   analyst  (\S+)$", out, re.M)
    info["analyst"] = m.group(1) if m else None
    m = re.search(r"^   demo-intel     (\S+)$", out, re.M)
    info["collection"] = m.group(1) if m else None
    return info


class DemoNode(Hub):
    """A hub.Hub that talks to a node cluster.sh started (it starts nothing itself) as the
    demo users, who have passwords (Basic), not the tokens hub.Hub sends."""

    def __init__(self, url, password):
        super().__init__(ARGS.ctihub, "cluster-client")
        self.port = int(url.rsplit(":", 1)[1])
        self.passwords = {"analyst": password}

    def auth(self, user, basic=True):
        return super().auth(user, basic=True) if user is not None else None


def check_serves(info):
    """A write through node A is read through node B; the demo data and /healthz on both."""
    check(set(info["nodes"]) == {"A", "B"} and info["analyst"] and info["collection"],
          "cluster.sh prints both nodes, the analyst's password and demo-intel: %r" % info)
    urls = [info["nodes"][n][0] for n in ("A", "B")]
    check(urls[0] != urls[1], "two listeners: %r" % urls)
    with DemoNode(urls[0], info["analyst"]) as a, DemoNode(urls[1], info["analyst"]) as b:
        obj = indicator()
        r = a.post_objects(info["collection"], [obj], user="analyst")
        if not check(r.status == 202, "POST via node A: %d %s" % (r.status, r.body[:300])):
            return
        status = b.wait_status(r.json()["id"], user="analyst")  # the status is in the database
        check(status["success_count"] == 1, "status via node B: %r" % status)
        got, _ = b.get_all(info["collection"], "match[id]=" + obj["id"], user="analyst")
        check([o["id"] for o in got] == [obj["id"]], "node B serves what node A took: %r" % got)
        demo, _ = b.get_all(info["collection"], "match[type]=malware", user="analyst")
        check(len(demo) >= 1, "node B serves the demo bundle (malware): %d" % len(demo))
        for h in (a, b):
            r = h.get("/healthz", user=None)
            check(r.status == 200 and r.body.startswith(b"ok"), "/healthz %d %r" % (r.status, r.body))


def check_mode(tls):
    tmp = tmpdir()
    try:
        r = subprocess.run([SCRIPT, "--check", ARGS.ctihub, "0", "0"],
                           env=env_with(tmp, CLUSTER_TLS="1" if tls else "0"),
                           capture_output=True, text=True, timeout=START_TIMEOUT + STOP_TIMEOUT)
        out = r.stdout + r.stderr
        check(r.returncode == 0 and "cluster check: ok" in out,
              "cluster.sh --check: %d %s" % (r.returncode, out[-3000:]))
        info = parse(out)
        scheme = "https" if tls else "http"
        check(all(url.startswith(scheme + "://127.0.0.1:") for url, _ in info["nodes"].values()),
              "both nodes on %s://127.0.0.1: %r" % (scheme, info["nodes"]))
        pids = [p for _, p in info["nodes"].values()] + [info["pg_pid"]]
        check(len(pids) == 3 and not wait_gone(pids, 1) and under(tmp) == [],
              "nothing runs after --check: %r %r" % (pids, under(tmp)))
        check(os.listdir(tmp) == [], "--check leaves nothing in TMPDIR: %r" % os.listdir(tmp))
    finally:
        remove(tmp)


def test_check_mode():
    check_mode(tls=False)


def test_check_mode_tls():
    """CLUSTER_TLS=1: each node serves HTTPS with its own certificate (the check's curl trusts
    only that node's certificate for that node)."""
    check_mode(tls=True)


def run_and_stop(tmp, sig, whole_group, expect_rc, keep):
    """Starts the cluster, checks it serves, sends `sig` (to the script, or to its whole
    process group as a terminal's Ctrl-C does) and checks that everything stopped. Returns
    what the script printed, parsed."""
    c = Cluster(tmp, **({"KEEP": "1"} if keep else {}))
    try:
        info = parse(c.wait_ready())
        check_serves(info)
        pids = [p for _, p in info["nodes"].values()] + [info["pg_pid"]]
        check(all(alive(p) for p in pids) and set(pids) <= set(under(tmp)),
              "both nodes and PostgreSQL run (under TMPDIR): %r %r" % (pids, under(tmp)))
        if whole_group:
            os.killpg(c.proc.pid, sig)
        else:
            c.proc.send_signal(sig)
        rc = c.wait_exit()
        out = "".join(c.out)
        check(rc == expect_rc, "cluster.sh exits %r after signal %d: %s" % (rc, sig, out[-2000:]))
        check(out.count("== cluster stopped") == 1, "says once it stopped: %s" % out[-1000:])
        check(not wait_gone(pids) and under(tmp) == [],
              "no node and no PostgreSQL left: %r %r" % (wait_gone(pids, 0), under(tmp)))
        return info
    finally:
        c.kill()


def remove(tmp):
    """Stops any PostgreSQL a failed run or KEEP=1 left in `tmp` (pg_test_cluster.sh stop,
    given a state directory naming it), then deletes `tmp`."""
    for name in os.listdir(tmp):
        if name.startswith("ctihub-pg."):
            state = tempfile.mkdtemp(prefix="ctihub-e2e-cluster-state-")
            with open(os.path.join(state, "datadir"), "w") as f:
                f.write(os.path.join(tmp, name))
            subprocess.run([os.path.join(ROOT, "scripts", "pg_test_cluster.sh"), "stop", state],
                           capture_output=True, timeout=120)
            shutil.rmtree(state, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)


def test_ctrl_c_stops_everything():
    tmp = tmpdir()
    try:
        run_and_stop(tmp, signal.SIGINT, whole_group=True, expect_rc=130, keep=False)
        check(os.listdir(tmp) == [], "no directory left: %r" % os.listdir(tmp))
    finally:
        remove(tmp)


def test_sigterm_with_keep_keeps_the_files():
    tmp = tmpdir()
    try:
        info = run_and_stop(tmp, signal.SIGTERM, whole_group=False, expect_rc=143, keep=True)
        run = info["run"] or tmp
        check(os.path.isdir(os.path.join(run, "node-a")) and os.path.isdir(os.path.join(run, "node-b")),
              "KEEP=1 keeps both data directories: %r" % run)
        for name in ("node-a", "node-b"):  # the policy is in the database, not in a node's files
            for doc in ("policy.toml", "agreements.toml"):
                path = os.path.join(run, name, doc)
                check(not os.path.lexists(path), "no %s in %s" % (doc, name))
        with open(os.path.join(run, "pg", "datadir")) as f:
            pg_dir = f.read().strip()
        check(os.path.isfile(os.path.join(pg_dir, "data", "PG_VERSION")), "and PostgreSQL's files")
        for name in ("node-a", "node-b"):
            with open(os.path.join(run, name + ".log")) as f:
                log = f.read()
            check("without their audit record" not in log or "recorded 0 " in log,
                  "%s recovers nothing at start-up: %s" % (name, log[:500]))
    finally:
        remove(tmp)


def test_a_busy_port_stops_what_started():
    """Node A's port is taken: the script fails, and node B and PostgreSQL (already started)
    are stopped and removed."""
    tmp = tmpdir()
    busy = socket.socket()
    try:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        r = subprocess.run([SCRIPT, "--check", ARGS.ctihub, str(port), "0"], env=env_with(tmp),
                           capture_output=True, text=True, timeout=START_TIMEOUT + STOP_TIMEOUT)
        out = r.stdout + r.stderr
        check(r.returncode == 1 and "node-a did not start" in out,
              "fails on a busy port: %d %s" % (r.returncode, out[-2000:]))
        check(under(tmp) == [], "node B and PostgreSQL stopped: %r" % under(tmp))
        check(os.listdir(tmp) == [], "nothing left in TMPDIR: %r" % os.listdir(tmp))
    finally:
        busy.close()
        remove(tmp)


def main():
    return run_tests([test_check_mode, test_check_mode_tls, test_ctrl_c_stops_everything,
                      test_sigterm_with_keep_keeps_the_files, test_a_busy_port_stops_what_started])


if __name__ == "__main__":
    sys.exit(main())
