#!/usr/bin/env python3
"""End to end, issue 12 item 6: `audit verify` anchors outside audit.db.
`ctihub init` prints the node's public key and pins it in DATA/audit.pub; an
emptied trail, a trail whose node.key was deleted, and a trail truncated to an
earlier (re-signed) head are each caught; without any key verify refuses."""
import os
import re
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub import Hub, check, indicator, parse_args, run_tests  # noqa: E402

ARGS = parse_args()


def run(hub, *args):
    r = subprocess.run([ARGS.ctihub] + list(args) + ["--data", hub.data], capture_output=True,
                       text=True, timeout=120)
    return r.returncode, r.stdout.strip(), r.stderr.strip()


def init_key(hub):
    rc, out, err = run(hub, "init")
    m = re.search(r"audit public key: ([0-9a-f]{64})", out)
    check(rc == 0 and m is not None, "init prints the audit public key: %r %s" % (out, err))
    return m.group(1) if m else ""


def sql(hub, text):
    db = sqlite3.connect(os.path.join(hub.data, "audit.db"))
    db.executescript("DROP TRIGGER IF EXISTS audit_record_no_update; "
                     "DROP TRIGGER IF EXISTS audit_record_no_delete; " + text)
    db.commit()
    db.close()


def test_init_prints_and_pins_the_key():
    with Hub(ARGS.ctihub, "tamper-init") as hub:
        key = init_key(hub)
        with open(os.path.join(hub.data, "audit.pub")) as f:
            check(f.read().strip() == key, "DATA/audit.pub holds the key init printed")
        check(init_key(hub) == key, "init is idempotent: same key")
        rc, out, err = run(hub, "audit", "verify", "--pubkey", key)
        check(rc == 0 and out.startswith("intact"), "fresh hub verifies: %s %s" % (out, err))


def test_emptied_trail_is_broken():
    with Hub(ARGS.ctihub, "tamper-empty") as hub:
        hub.setup()
        key = init_key(hub)
        sql(hub, "DELETE FROM audit_record; DELETE FROM audit_object; DELETE FROM audit_object_recent; "
                 "DELETE FROM audit_checkpoint; "
                 "DELETE FROM audit_head;")
        rc, out, err = run(hub, "audit", "verify", "--pubkey", key)
        check(rc == 1 and "empty" in out, "an emptied trail is broken, exit 1: %d %s %s" % (rc, out, err))


def test_deleted_node_key_neither_disables_checks_nor_gets_replaced():
    with Hub(ARGS.ctihub, "tamper-key") as hub:
        hub.setup()
        os.remove(os.path.join(hub.data, "node.key"))
        rc, out, err = run(hub, "audit", "verify")
        check(rc == 0 and "signature valid" in out, "the pinned key still checks the head: %s %s" % (out, err))
        rc, out, err = run(hub, "org", "add", "late")
        check(rc != 0 and "node.key" in err, "a writer refuses to make a new key: %d %s" % (rc, err))
        check(not os.path.exists(os.path.join(hub.data, "node.key")), "no new node.key was created")
        os.remove(os.path.join(hub.data, "audit.pub"))
        rc, out, err = run(hub, "audit", "verify")
        check(rc == 2 and "--pubkey" in err, "no key at all: verify refuses (exit 2): %d %s %s" % (rc, out, err))


def test_truncation_to_an_earlier_head_is_detected_with_a_head_kept_elsewhere():
    with Hub(ARGS.ctihub, "tamper-trunc") as hub:
        hub.setup()
        rc, out, _ = run(hub, "audit", "verify")
        m = re.search(r"head (\d+):([0-9a-f]{64})", out)
        check(rc == 0 and m is not None, "verify prints the head as SEQ:HASH: %s" % out)
        if not m:
            return
        seen = "%s:%s" % (m.group(1), m.group(2))
        rc, out, err = run(hub, "audit", "verify", "--expect", seen)
        check(rc == 0, "the trail holds the head seen: %s %s" % (out, err))
        # Truncation: the last records go, the head is moved back. (Re-signing it
        # needs node.key; the check that matters is the outside anchor.)
        n = int(m.group(1))
        sql(hub, "DELETE FROM audit_record WHERE seq > %d; DELETE FROM audit_object WHERE seq > %d; "
                 "DELETE FROM audit_object_recent WHERE seq > %d; "
                 "UPDATE audit_head SET seq = %d, hash = (SELECT hash FROM audit_record WHERE seq = %d);"
            % (n - 3, n - 3, n - 3, n - 3, n - 3))
        rc, out, err = run(hub, "audit", "verify", "--expect", seen)
        check(rc == 1 and "truncated" in out, "truncation against the head seen elsewhere: %d %s %s" % (rc, out, err))


if __name__ == "__main__":
    sys.exit(run_tests([test_init_prints_and_pins_the_key, test_emptied_trail_is_broken,
                        test_deleted_node_key_neither_disables_checks_nor_gets_replaced,
                        test_truncation_to_an_earlier_head_is_detected_with_a_head_kept_elsewhere]))
