#!/usr/bin/env python3
"""End to end: uploads through the web console (POST /api/v1/import, GET
/api/v1/import/{job}; docs/API.md) on a real `ctihub serve`, through the same
code as `ctihub import`: a STIX bundle (session + CSRF, as the UI sends it),
a free-text feed, a CSV file with a column map and a gzip MISP event (scripts, Basic), each job
polled until done and its objects then found over TAXII with the importer's
organisation as producer; a bad file lists its rejections with line numbers;
a reader (and another organisation) gets 403 before any work; a job is
visible to its owner only; an upload over --body-limit is 413."""
import gzip
import json
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub import (Hub, check, indicator, parse_args, run_tests,  # noqa: E402
                 skip_in_two_nodes, urlquote)

ARGS = parse_args()
JSON = "application/json"
OCTETS = "application/octet-stream"


def login(hub, user):
    r = hub.request("POST", "/api/v1/session", body={"user": user, "password": hub.passwords[user]},
                    user=None, accept=None, content_type=JSON)
    if r.status != 200:
        raise RuntimeError("login %s: %d" % (user, r.status))
    cookie = (r.header("Set-Cookie") or "").split(";", 1)[0]
    return cookie, r.json()["csrf_token"]


def upload(hub, collection, fmt, data, user="alice", session=None, extra=""):
    """POST /api/v1/import as a script (Basic) or, with session=(cookie, csrf), as the UI."""
    path = "/api/v1/import?collection=%s&format=%s%s" % (urlquote(collection), urlquote(fmt), extra)
    if session:
        return hub.request("POST", path, body=data, user=None, accept=JSON, content_type=OCTETS,
                           headers={"Cookie": session[0], "X-CSRF-Token": session[1]})
    return hub.request("POST", path, body=data, user=user, basic=True, accept=JSON, content_type=OCTETS)


def wait_job(hub, job, user="alice", session=None, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if session:
            r = hub.request("GET", "/api/v1/import/" + job, user=None, accept=JSON,
                            headers={"Cookie": session[0]})
        else:
            r = hub.request("GET", "/api/v1/import/" + job, user=user, basic=True, accept=JSON)
        if r.status != 200:
            raise RuntimeError("job %s: %d %r" % (job, r.status, r.body[:300]))
        body = r.json()
        if body["state"] != "running":
            return body
        time.sleep(0.05)
    raise RuntimeError("job %s still running after %ds" % (job, timeout))


def acme_identity(hub):
    for line in hub.cli("org", "list").splitlines():
        if line.split() and line.split()[0] == "acme":
            return next(w for w in line.split() if w.startswith("identity--"))
    return None


def test_stix_bundle_from_the_ui():
    with Hub(ARGS.ctihub, "import-stix") as hub:
        hub.setup()
        hub.start()
        session = login(hub, "alice")
        objs = [indicator(1), indicator(2)]
        bundle = json.dumps({"type": "bundle", "id": "bundle--" + str(uuid.uuid4()), "objects": objs})
        # Without the CSRF token a session upload is refused before any work.
        r = upload(hub, hub.collections["shared"], "stix", bundle, session=(session[0], ""))
        check(r.status == 403 and r.json()["error_id"] == "csrf", "no CSRF token: %d" % r.status)
        r = upload(hub, hub.collections["shared"], "stix", bundle, session=session)
        check(r.status == 202, "upload accepted: %d %r" % (r.status, r.body[:300]))
        job = r.json()["job"]
        check(r.header("Location") == "/api/v1/import/" + job, "Location of the job")
        status = wait_job(hub, job, session=session)
        check(status["state"] == "done", "job done: %r" % status)
        check(status["objects_read"] == 2 and status["objects_stored"] == 2, "counts: %r" % status)
        check(status["total_bytes"] == len(bundle) and status["read_bytes"] == len(bundle),
              "bytes: %r" % status)
        check(status["errors"] == [], "no rejections: %r" % status["errors"])
        # Found over TAXII, produced by the importer's organisation.
        found, _ = hub.get_all("shared", user="alice")
        ids = {o["id"]: o for o in found}
        check(all(o["id"] in ids for o in objs), "both objects over TAXII")
        producer = acme_identity(hub)
        check(all(ids.get(o["id"], {}).get("created_by_ref") == producer for o in objs),
              "created_by_ref is acme's identity %s" % producer)
        # The job is its owner's: another user gets 404, as for no job at all.
        r = hub.request("GET", "/api/v1/import/" + job, user="bob", basic=True, accept=JSON)
        check(r.status == 404, "bob cannot see alice's job: %d" % r.status)
        r = hub.request("GET", "/api/v1/import/" + job, user="root", basic=True, accept=JSON)
        check(r.status == 200, "an admin can: %d" % r.status)
        # One object.written record per batch, with alice as its user.
        hub.stop()
        if not skip_in_two_nodes(hub, "the import's records in node A's trail",
                                 "the job ran on the node the upload reached; audit show reads "
                                 "one node's trail"):
            out = hub.cli("audit", "show", "--action", "object.written", "--user", "alice", "--json",
                          check_rc=False)
            check('"alice"' in out and "console import" in out, "audited as alice: %r" % out[:500])


def test_text_and_csv_feeds_and_a_bad_file():
    with Hub(ARGS.ctihub, "import-feeds") as hub:
        hub.setup()
        hub.start()
        text = "Phishing: hxxp://upload-beacon.example[.]com/login seen from 203.0.113.77\n"
        r = upload(hub, hub.collections["shared"], "text", text)
        check(r.status == 202, "text upload: %d %r" % (r.status, r.body[:300]))
        status = wait_job(hub, r.json()["job"])
        check(status["state"] == "done" and status["objects_stored"] > 0, "text job: %r" % status)
        found, _ = hub.get_all("shared", user="alice")
        patterns = " ".join(o.get("pattern", "") for o in found)
        check("upload-beacon.example.com" in patterns and "203.0.113.77" in patterns,
              "text indicators over TAXII: %r" % patterns[:300])
        # CSV with a column map; line 3 is not an address: rejected with its line number.
        csv = "ip,comment\n198.51.100.9,c2\nnot-an-address,x\n198.51.100.10,c2\n"
        r = upload(hub, hub.collections["shared"], "csv", csv,
                   extra="&csv_map=" + urlquote("ip=ipv4-addr:value") + "&name=feed.csv")
        check(r.status == 202, "csv upload: %d %r" % (r.status, r.body[:300]))
        status = wait_job(hub, r.json()["job"])
        check(status["state"] == "done", "csv job done: %r" % status)
        check(status["rejected"] == 1 and len(status["errors"]) == 1, "one rejection: %r" % status)
        err = status["errors"][0] if status["errors"] else {}
        check(err.get("file") == "feed.csv" and err.get("line") == 3 and err.get("reason"),
              "the rejection names file and line: %r" % err)
        found, _ = hub.get_all("shared", user="alice")
        patterns = " ".join(o.get("pattern", "") for o in found)
        check("198.51.100.9" in patterns and "198.51.100.10" in patterns, "csv rows over TAXII")
        # A STIX bundle with a broken object: the others are stored, the broken one listed.
        bad = indicator(3)
        del bad["pattern"]
        good = indicator(4)
        bundle = json.dumps({"type": "bundle", "id": "bundle--" + str(uuid.uuid4()), "objects": [good, bad]})
        r = upload(hub, hub.collections["shared"], "stix", bundle)
        status = wait_job(hub, r.json()["job"])
        check(status["state"] == "done" and status["objects_stored"] == 1 and status["rejected"] == 1,
              "bad STIX object rejected: %r" % status)
        check(status["errors"] and status["errors"][0].get("object") == bad["id"],
              "the rejection names the object: %r" % status["errors"])
        # A gzip-compressed MISP event: read through the same gunzip and MISP reader.
        event = {"Event": {"uuid": str(uuid.uuid4()), "info": "upload event", "timestamp": "1700000000",
                           "Attribute": [{"uuid": str(uuid.uuid4()), "type": "ip-dst", "value": "192.0.2.77",
                                          "to_ids": True, "timestamp": "1700000000"}]}}
        r = upload(hub, hub.collections["shared"], "misp", gzip.compress(json.dumps(event).encode()),
                   extra="&name=event.json.gz")
        status = wait_job(hub, r.json()["job"])
        check(status["state"] == "done" and status["objects_stored"] >= 3 and status["rejected"] == 0,
              "MISP event (gzip) imported: %r" % status)
        found, _ = hub.get_all("shared", user="alice")
        check(any(o["type"] == "report" and o.get("name") == "upload event" for o in found),
              "the event's report over TAXII")
        # Binary data as text: nothing readable, the job fails with the reason.
        r = upload(hub, hub.collections["shared"], "text", b"\x00\x01\x02binary")
        status = wait_job(hub, r.json()["job"])
        check(status["state"] == "failed" and "binary" in status.get("error", ""),
              "binary upload fails: %r" % status)


def test_permissions_and_limits():
    with Hub(ARGS.ctihub, "import-limits") as hub:
        hub.setup()
        hub.start("--body-limit", "100000")
        feed = "203.0.113.5\n"
        for user, col, want in [("bob", "shared", 403), ("olga", "shared", 403), ("olga", "acme", 404)]:
            r = upload(hub, hub.collections[col], "text", feed, user=user)
            check(r.status == want, "%s into %s: %d (want %d) %r" % (user, col, r.status, want, r.body[:200]))
        r = upload(hub, hub.collections["shared"], "pdf", feed)
        check(r.status == 400 and r.json()["error_id"] == "bad_format", "unknown format: %d" % r.status)
        r = upload(hub, "no-such-collection", "text", feed)
        check(r.status == 404 and r.json()["error_id"] == "unknown_collection", "unknown collection")
        found, _ = hub.get_all("shared", user="alice")
        check(found == [], "nothing was imported by the refused uploads")
        # Over --body-limit: 413 from the Content-Length, before the body is read.
        head = ("POST /api/v1/import?collection=%s&format=text HTTP/1.1\r\nHost: x\r\n"
                "Authorization: %s\r\nContent-Type: %s\r\nContent-Length: 200000\r\n\r\n"
                % (hub.collections["shared"], hub.auth("alice", basic=True), OCTETS))
        answer = hub.raw(head.encode())
        check(answer.startswith(b"HTTP/1.1 413"), "over --body-limit: %r" % answer[:80])


if __name__ == "__main__":
    sys.exit(run_tests([test_stix_bundle_from_the_ui, test_text_and_csv_feeds_and_a_bad_file,
                        test_permissions_and_limits]))
