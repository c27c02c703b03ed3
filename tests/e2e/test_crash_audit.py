#!/usr/bin/env python3
"""End to end, issue 12 items 7 and 8: after a stop that lost work (kill -9),
the hub finishes every pending status before serving again (durable objects
succeed, the rest fail with a reason) and records every stored object version
the trail missed, so `audit verify` (which cross-checks the store) stays intact.
The crash window is also simulated exactly: a version committed to the store
without its record, a status left pending."""
import json
import os
import sqlite3
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub import Hub, check, indicator, parse_args, run_tests  # noqa: E402

ARGS = parse_args()


def run(hub, *args):
    """(returncode, stdout, stderr) of `ctihub ARGS --data DIR`."""
    r = subprocess.run([ARGS.ctihub] + list(args) + ["--data", hub.data], capture_output=True,
                       text=True, timeout=120)
    return r.returncode, r.stdout.strip(), r.stderr.strip()


def verify(hub):
    rc, out, err = run(hub, "audit", "verify", "--json")
    try:
        return rc, json.loads(out), err
    except ValueError:
        return rc, {}, out + err


def status_now(hub, status_id):
    r = hub.get("/api1/status/%s/" % status_id)
    return r.json() if r.status == 200 else {"status": "http %d" % r.status}


def test_kill9_cycles_leave_no_unrecorded_version_and_no_pending_status():
    with Hub(ARGS.ctihub, "crash-audit") as hub:
        hub.setup().start()
        statuses = []
        for cycle in range(3):  # bounded: three kill -9 cycles
            hub.post_and_wait("shared", [indicator(cycle * 1000 + i) for i in range(20)])
            for b in range(4):  # in flight when the process dies
                r = hub.post_objects("shared", [indicator(cycle * 1000 + 100 * b + i) for i in range(200)])
                if r.status == 202:
                    statuses.append(r.json()["id"])
            hub.kill9()
            hub.start()
            for sid in statuses:
                st = status_now(hub, sid)
                check(st["status"] == "complete",
                      "cycle %d: status %s finished at start-up: %s" % (cycle, sid, st["status"]))
                check(st.get("success_count", 0) + st.get("failure_count", 0) == st.get("total_count", -1),
                      "cycle %d: every object of %s counted" % (cycle, sid))
        hub.stop()
        rc, rep, err = verify(hub)
        check(rc == 0 and rep.get("intact") and rep.get("store_checked"),
              "audit verify after kill -9 cycles: every stored version has its record: %r %s" % (rep, err))


OBJECT_COLUMNS = ("collection, id, version, version_digits, type, spec_version, is_latest, is_first, "
                  "spec_latest, json, producer, tlp, pap, recipients, granular, facts, node")


def crash_window_in_sqlite(hub, node, kept_id, lost_id, never_id, status_id):
    db = sqlite3.connect(os.path.join(hub.data, "ctihub.db"))
    db.execute("INSERT INTO objects(date_added, %s) SELECT (SELECT max(date_added) + 1 FROM objects), "
               "collection, ?, version, version_digits, type, spec_version, 1, 1, 1, replace(json, id, ?), "
               "producer, tlp, pap, recipients, granular, facts, ? FROM objects WHERE id = ?"
               % OBJECT_COLUMNS, (lost_id, lost_id, node, kept_id))
    user_id = db.execute("SELECT id FROM users WHERE name = 'alice'").fetchone()[0]
    db.execute("INSERT INTO statuses(id, api_root, user_id, status, request_timestamp, total_count, "
               "success_count, failure_count, pending_count, node) "
               "VALUES(?, 'api1', ?, 'pending', '2024-01-01T00:00:00.000Z', 2, 0, 0, 2, ?)",
               (status_id, user_id, node))
    for oid in (lost_id, never_id):
        db.execute("INSERT INTO status_details VALUES(?, 2, ?, '2024-01-02T00:00:00.000Z', '')",
                   (status_id, oid))
    db.commit()
    db.close()


def crash_window_in_postgres(hub, node, kept_id, lost_id, never_id, status_id):
    """The same rows in the PostgreSQL store (ids are uuids and hex: no quoting needed)."""
    hub.sql("BEGIN; INSERT INTO objects(date_added, %s, search) SELECT "
            "(SELECT max(date_added) + 1 FROM objects), collection, '%s', version, version_digits, "
            "type, spec_version, 1, 1, 1, replace(json, id, '%s'), producer, tlp, pap, recipients, "
            "granular, facts, '%s', search FROM objects WHERE id = '%s'; "
            "INSERT INTO statuses(id, api_root, user_id, status, request_timestamp, total_count, "
            "success_count, failure_count, pending_count, node) SELECT '%s', 'api1', id, 'pending', "
            "'2024-01-01T00:00:00.000Z', 2, 0, 0, 2, '%s' FROM users WHERE name = 'alice'; "
            "INSERT INTO status_entries(status_id, kind, object_ids, versions) VALUES "
            "('%s', 2, ARRAY['%s', '%s'], "
            "ARRAY['2024-01-02T00:00:00.000Z', '2024-01-02T00:00:00.000Z']); COMMIT"
            % (OBJECT_COLUMNS, lost_id, lost_id, node, kept_id, status_id, node, status_id, lost_id,
               never_id))


def test_lost_record_and_pending_status_are_recovered_at_start_up():
    with Hub(ARGS.ctihub, "crash-window") as hub:
        hub.setup().start()
        kept = indicator(1)
        hub.post_and_wait("shared", [kept])
        hub.stop()
        # The crash window: the store committed a version, the trail never got its
        # record; a status whose write never committed stays pending.
        lost_id = "indicator--" + str(uuid.uuid4())
        never_id = "indicator--" + str(uuid.uuid4())
        status_id = str(uuid.uuid4())
        # Rows of this node (DATA/node.id): recovery finishes and lists only its node's.
        with open(os.path.join(hub.data, "node.id")) as f:
            node = f.read().strip()
        if hub.db:
            crash_window_in_postgres(hub, node, kept["id"], lost_id, never_id, status_id)
        else:
            crash_window_in_sqlite(hub, node, kept["id"], lost_id, never_id, status_id)

        rc, rep, _ = verify(hub)
        check(rc == 1 and not rep.get("intact") and lost_id in rep.get("reason", ""),
              "audit verify reports the stored version without its record: %d %r" % (rc, rep))

        hub.start()
        st = status_now(hub, status_id)
        check(st["status"] == "complete", "the pending status is finished before serving: %r" % st)
        check(st.get("success_count") == 1 and st.get("failure_count") == 1,
              "the durable object succeeds, the other fails: %r" % st)
        failures = st.get("failures", [])
        check(len(failures) == 1 and failures[0]["id"] == never_id and "stopped" in failures[0].get("message", ""),
              "the failure names the object and the reason: %r" % failures)
        hub.stop()

        rc, rep, err = verify(hub)
        check(rc == 0 and rep.get("intact"), "audit verify intact after recovery: %r %s" % (rep, err))
        rc, out, err = run(hub, "audit", "show", "--json", "--object", lost_id)
        recs = json.loads(out) if rc == 0 else []
        check(len(recs) == 1 and recs[0]["action"] == "object.written" and recs[0]["user"] == "hub:recovery"
              and recs[0]["details"].get("recovered") is True,
              "the lost record is appended, marked recovered: %r %s" % (recs, err))


if __name__ == "__main__":
    sys.exit(run_tests([test_lost_record_and_pending_status_are_recovered_at_start_up,
                        test_kill9_cycles_leave_no_unrecorded_version_and_no_pending_status]))
