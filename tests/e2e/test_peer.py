#!/usr/bin/env python3
"""End to end: `ctihub peer add|list|show|check|remove`: credentials sealed at
rest and never printed, every change audited, check opens the credentials and
reaches the peer (a second ctihub) over TAXII."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub import Hub, check, parse_args, run_tests  # noqa: E402

ARGS = parse_args()


def peer(hub, *args, stdin=None):
    return subprocess.run([ARGS.ctihub, "peer"] + list(args) + ["--data", hub.data], input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_peer_lifecycle():
    with Hub(ARGS.ctihub, "peer-remote") as remote, Hub(ARGS.ctihub, "peer-local") as local:
        remote.setup().start()
        local.setup()
        url = "http://127.0.0.1:%d/taxii2/" % remote.port
        secret = remote.passwords["bob"]
        r = peer(local, "add", "vendor", "--url", url, "--collection", remote.collections["shared"],
                 "--local-collection", "shared", "--org", "other", "--direction", "pull",
                 "--user", "bob", "--password-stdin", "--every", "15m", stdin=secret + "\n")
        check(r.returncode == 0, "peer add: %d %s" % (r.returncode, r.stderr))
        with open(os.path.join(local.data, "peers.json")) as f:
            stored = f.read()
        check(secret not in stored and "sealed" in stored, "the password is sealed at rest")
        check(oct(os.stat(os.path.join(local.data, "peers.json")).st_mode & 0o777) == "0o600", "peers.json is 0600")
        lst = peer(local, "list")
        show = peer(local, "show", "vendor")
        check(lst.returncode == 0 and "vendor\tpull\tother" in lst.stdout, "list: %r" % lst.stdout)
        check(show.returncode == 0 and "password sealed" in show.stdout and secret not in show.stdout + lst.stdout,
              "show names the credentials, never the secret: %r" % show.stdout)
        r = peer(local, "check", "vendor")
        check(r.returncode == 0 and "read=yes" in r.stdout, "check opens the credentials: %d %r %s" % (r.returncode, r.stdout, r.stderr))
        r = peer(local, "add", "vendor", "--url", url, "--collection", "x", "--local-collection", "shared",
                 "--org", "other", "--direction", "pull")
        check(r.returncode == 2 and "peer_exists" in r.stderr, "duplicate refused: %s" % r.stderr)
        for bad, name in ((["--direction", "sideways"], "bad_direction"), (["--org", "nobody"], ""),
                          (["--url", "ftp://x/"], "bad_url")):
            args = {"--url": url, "--collection": "c", "--local-collection": "shared", "--org": "other",
                    "--direction": "pull"}
            args[bad[0]] = bad[1]
            flat = [x for kv in args.items() for x in kv]
            r = peer(local, "add", "p2", *flat)
            check(r.returncode == 2 and name in r.stderr, "%s refused: %s" % (bad, r.stderr))
        r = peer(local, "add", "writer", "--url", url, "--collection", remote.collections["shared"],
                 "--local-collection", "shared", "--org", "other", "--direction", "push",
                 "--token-stdin", stdin=remote.tokens["bob"] + "\n")
        check(r.returncode == 0, "bearer peer added")
        r = peer(local, "check", "writer")
        check(r.returncode == 1 and "write=no" in r.stdout, "a reader's token cannot push: %d %r" % (r.returncode, r.stdout))
        check(peer(local, "remove", "writer").returncode == 0, "remove")
        check("writer" not in peer(local, "list").stdout, "removed peer gone")
        trail = local.cli("audit", "show", "--action", "peer.changed")
        check(trail.count("peer.changed") >= 3 and secret not in trail and remote.tokens["bob"] not in trail,
              "every change audited, no secret in the trail: %r" % trail[-500:])


if __name__ == "__main__":
    sys.exit(run_tests([test_peer_lifecycle]))
