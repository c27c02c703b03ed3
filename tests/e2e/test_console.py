#!/usr/bin/env python3
"""End to end: the web console's server side (src/webapi, docs/API.md) on a
real `ctihub serve`: login/logout with the session cookie, CSRF, idle
expiry, security headers, /ui/ in a binary built without the UI (503) and
with --no-ui (404), and search through the sharing policy as two
organisations (an object one may not read is never shown nor counted).

Also run in two-node mode (e2e.pg.console, hub.py): two `serve --db` nodes, requests to
them in turn, so a session made on one node is used and ended on the other (sessions
live in the database). What is still per node is checked per node or skipped, each
said where it happens: the failed-login limiter (per node), the audit trail read
through the CLI (node A's), and the policy reaching the other node (within its
250 ms revision poll)."""
import json
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub import (Hub, check, eventually, indicator, parse_args, run_tests,  # noqa: E402
                 skip_in_two_nodes, two_nodes, urlquote)

ARGS = parse_args()
JSON = "application/json"
TLP_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
TLP_RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")


def login(hub, user, password=None, headers=None):
    body = {"user": user, "password": password if password is not None else hub.passwords[user]}
    return hub.request("POST", "/api/v1/session", body=body, user=None, accept=None,
                       content_type=JSON, headers=headers)


def session_of(r):
    """(cookie value, csrf token) of a successful login."""
    cookie = r.header("Set-Cookie") or ""
    value = cookie.split(";", 1)[0].split("=", 1)[1] if "=" in cookie else ""
    return value, r.json()["csrf_token"]


def with_cookie(hub, method, path, cookie, csrf=None, body=None):
    h = {"Cookie": "ctihub_session=" + cookie}
    if csrf is not None:
        h["X-CSRF-Token"] = csrf
    return hub.request(method, path, body=body, user=None, accept=None,
                       content_type=JSON if body is not None else None, headers=h)


def test_login_session_logout():
    with Hub(ARGS.ctihub, "console-login") as hub:
        hub.setup()
        hub.start()
        r = login(hub, "alice")
        check(r.status == 200, "login 200: %d %r" % (r.status, r.body[:200]))
        cookie = r.header("Set-Cookie") or ""
        check(cookie.startswith("ctihub_session=") and cookie.endswith("; Path=/; HttpOnly; SameSite=Strict"),
              "cookie attributes: %r" % cookie)
        value, csrf = session_of(r)
        check(len(value) == 64 and len(csrf) == 64 and value != csrf, "256-bit cookie and CSRF token")
        body = r.json()
        check(body["user"] == {"name": "alice", "org": "acme", "role": "publisher"}, "user: %r" % body)
        check(body["idle_timeout_s"] == 1800 and body["expires_at"].endswith("Z"), "timeouts: %r" % body)
        r = with_cookie(hub, "GET", "/api/v1/session", value)
        check(r.status == 200 and r.json()["csrf_token"] == csrf, "GET session: %d" % r.status)
        for h in ["Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
                  "Cross-Origin-Opener-Policy", "Cross-Origin-Resource-Policy", "Permissions-Policy"]:
            check(r.header(h), "header %s on the API" % h)
        check(r.header("Content-Security-Policy") == CSP, "CSP: %r" % r.header("Content-Security-Policy"))
        # Wrong password and unknown user: one answer, no cookie, no browser dialog.
        bad1, bad2 = login(hub, "alice", "wrong"), login(hub, "nobody", "wrong")
        check(bad1.status == 401 and bad1.body == bad2.body, "same 401 for both")
        check(bad1.header("Set-Cookie") is None and bad1.header("WWW-Authenticate") is None,
              "no cookie and no WWW-Authenticate on a failed console login")
        # Logout needs the CSRF token; afterwards the cookie is dead.
        r = with_cookie(hub, "DELETE", "/api/v1/session", value)
        check(r.status == 403 and r.json()["error_id"] == "csrf", "logout without CSRF: %d" % r.status)
        r = with_cookie(hub, "DELETE", "/api/v1/session", value, csrf)
        check(r.status == 204 and "Max-Age=0" in (r.header("Set-Cookie") or ""), "logout: %d" % r.status)
        r = with_cookie(hub, "GET", "/api/v1/search", value)
        check(r.status == 401, "search after logout: %d" % r.status)
        # The password never reaches the servers' logs (both nodes' in two-node mode).
        hub.stop()
        for path in [hub.stderr_path, os.path.join(hub.dir, "server-b.stderr")]:
            if not os.path.exists(path):
                continue
            with open(path, "rb") as f:
                log = f.read()
            check(hub.passwords["alice"].encode() not in log and value.encode() not in log
                  and csrf.encode() not in log, "no password, cookie or CSRF token in %s" % path)


def test_csrf_and_bodies_without_credentials():
    with Hub(ARGS.ctihub, "console-csrf") as hub:
        hub.setup()
        hub.start()
        value, csrf = session_of(login(hub, "alice"))
        r = with_cookie(hub, "POST", "/api/v1/agreements", value, body={"x": 1})
        check(r.status == 403 and r.json()["error_id"] == "csrf", "POST without CSRF: %d" % r.status)
        r = with_cookie(hub, "POST", "/api/v1/agreements", value, "f" * 64, body={"x": 1})
        check(r.status == 403, "POST with a wrong CSRF token: %d" % r.status)
        # A body with a forged cookie is never read: 401 and close.
        r = with_cookie(hub, "POST", "/api/v1/agreements", "a" * 64, csrf, body={"x": 1})
        check(r.status == 401, "forged cookie with a body: %d" % r.status)
        # A login from another site is refused.
        r = login(hub, "alice", headers={"Origin": "https://evil.example"})
        check(r.status == 403 and r.json()["error_id"] == "bad_origin", "foreign Origin: %d" % r.status)
        r = hub.request("POST", "/api/v1/session", body="user=alice", user=None, accept=None,
                        content_type="application/x-www-form-urlencoded")
        check(r.status == 415, "form-encoded login: %d" % r.status)
        r = hub.request("POST", "/api/v1/session", body="x" * (64 * 1024), user=None, accept=None,
                        content_type=JSON)
        check(r.status == 413, "oversized login body: %d" % r.status)


def test_login_rate_limit():
    with Hub(ARGS.ctihub, "console-ratelimit") as hub:
        hub.setup()
        hub.start()
        # The limiter counts per node (ten failures per user and address on each): with
        # requests alternating over the nodes, each node is limited after its own ten.
        nodes = 2 if two_nodes(hub) else 1
        if nodes > 1:
            print("two-node mode: the failed-login limit is per node: %d failures" % (10 * nodes))
        statuses = [login(hub, "bob", "wrong").status for _ in range(10 * nodes)]
        check(statuses == [401] * (10 * nodes), "ten failures per node: %r" % statuses)
        r = login(hub, "bob")
        check(r.status == 429 and r.header("Retry-After"), "then 429 even with the password: %d" % r.status)
        check(login(hub, "olga").status == 429, "the same client address is limited too")


def test_session_idle_expiry():
    with Hub(ARGS.ctihub, "console-expiry") as hub:
        hub.setup()
        hub.start("--session-idle", "1", "--session-max", "60")
        value, _ = session_of(login(hub, "alice"))
        check(with_cookie(hub, "GET", "/api/v1/session", value).status == 200, "fresh session")
        time.sleep(2.5)
        r = with_cookie(hub, "GET", "/api/v1/session", value)
        check(r.status == 401 and r.json()["error_id"] == "session_expired", "idle expiry: %d %r" % (r.status, r.body))


def test_ui_not_built_and_no_ui():
    with Hub(ARGS.ctihub, "console-ui") as hub:
        hub.setup()
        hub.start()
        r = hub.get("/", user=None, accept=None)
        check(r.status == 302 and r.header("Location") == "/ui/", "/ -> /ui/: %d" % r.status)
        r = hub.get("/ui", user=None, accept=None)
        check(r.status == 301 and r.header("Location") == "/ui/", "/ui -> /ui/: %d" % r.status)
        r = hub.get("/ui/", user=None, accept=None)
        if r.status == 503:  # this binary was configured without CTIHUB_UI_DIST_DIR
            check(r.json()["error_id"] == "ui_not_built" and b"UI not built" in r.body, "503 says why")
        else:  # a binary with the UI embedded
            check(r.status == 200 and r.header("Cache-Control") == "no-store", "/ui/ index: %d" % r.status)
        check(r.header("Content-Security-Policy") == CSP, "CSP on /ui/")
        for evil in ["/ui/../../etc/passwd", "/ui/%2e%2e/%2e%2e/etc/passwd", "/ui/..%2f..%2fetc%2fpasswd"]:
            r = hub.get(evil, user=None, accept=None)
            check(b"root:" not in r.body and r.status in (200, 400, 404, 503), "%s: %d" % (evil, r.status))
        hub.stop()
        hub.start("--no-ui")
        check(hub.get("/ui/", user=None, accept=None).status == 404, "--no-ui: /ui/ 404")
        check(hub.get("/taxii2/", user="alice").status == 200, "TAXII still served")


def publish(hub, coll, obj):
    st = hub.post_and_wait(coll, [obj])
    check(st["success_count"] == 1, "stored %s: %r" % (obj["id"], st))


def test_search_through_the_policy():
    with Hub(ARGS.ctihub, "console-search") as hub:
        hub.setup()
        hub.start()
        marker = "zebra" + uuid.uuid4().hex[:6]
        clear = indicator(1, pattern="[domain-name:value = '%s.clear.example']" % marker)
        clear["name"] = "%s clear" % marker
        clear["object_marking_refs"] = [TLP_CLEAR]
        red = indicator(2, pattern="[domain-name:value = '%s.red.example']" % marker)
        red["name"] = "%s red" % marker
        red["object_marking_refs"] = [TLP_RED]
        private = indicator(3, pattern="[domain-name:value = '%s.private.example']" % marker)
        private["name"] = "%s private" % marker
        private["object_marking_refs"] = [TLP_CLEAR]
        publish(hub, "shared", clear)
        publish(hub, "shared", red)
        publish(hub, "acme", private)

        def search(user, query):
            value, _ = session_of(login(hub, user))
            return with_cookie(hub, "GET", "/api/v1/search?" + query, value)

        r = search("bob", "q=" + marker)  # acme: its own objects, everywhere it may read
        check(r.status == 200 and r.json()["total"] == 3, "acme sees 3: %d %r" % (r.status, r.body[:300]))
        r = search("olga", "q=" + marker)  # other: only the TLP:CLEAR object of the shared collection
        body = r.json() if r.status == 200 else {}
        check(body.get("total") == 1 and [x["id"] for x in body.get("results", [])] == [clear["id"]],
              "other sees only the clear object: %r" % r.body[:400])
        check(red["id"].encode() not in r.body and private["id"].encode() not in r.body,
              "withheld objects never appear")
        check(body.get("facets", {}).get("tlp") == {"clear": 1}, "facets count only the visible: %r" % body)
        # Scripts use Basic/Bearer like TAXII.
        r = hub.get("/api/v1/search?q=" + urlquote(marker + ".red"), user="olga", accept=None)
        check(r.status == 200 and r.json()["total"] == 0, "bearer search for the red value finds nothing")
        r = hub.get("/api/v1/search?q=" + urlquote(marker + ".red"), user="alice", accept=None)
        check(r.status == 200 and r.json()["total"] == 1, "the producer finds its red object by value")
        # Hostile text: results or 400, never 500.
        for q in ['"', '"%s" OR x' % marker, "NEAR(a b)", "*", "a" * 5000, "caf\u00e9 \U0001F600",
                  "'; DROP TABLE objects; --", "\\", "(((", "^x", "col:x"]:
            r = hub.get("/api/v1/search?q=" + urlquote(q), user="alice", accept=None)
            check(r.status in (200, 400), "q=%r: %d" % (q[:30], r.status))
        r = hub.get("/api/v1/search?q=" + "a%20" * 40, user="alice", accept=None)
        check(r.status == 400 and r.json()["error_id"] == "bad_query", "too many words: %d" % r.status)
        # Every search is audited: the record names the user and the objects shown.
        hub.stop()
        if not skip_in_two_nodes(hub, "the audit check of the search",
                                 "the audit trail is per node and `audit show` reads node A's; "
                                 "olga's search may have been served by node B"):
            out = hub.cli("audit", "show", "--user", "olga", "--action", "object.served", "--json",
                          check_rc=False)
            check(clear["id"] in out and red["id"] not in out, "audit names what olga was shown")


def test_audit_verify_for_auditors():
    with Hub(ARGS.ctihub, "console-verify") as hub:
        hub.setup()
        hub.cli("user", "add", "aud", "--org", "acme", "--role", "auditor", "--password-stdin",
                stdin="pw-aud-e2e-1\n")
        hub.passwords["aud"] = "pw-aud-e2e-1"
        hub.start()
        publish(hub, "shared", indicator(7))
        value, _ = session_of(login(hub, "bob"))
        check(with_cookie(hub, "GET", "/api/v1/audit/verify", value).status == 403, "a reader: 403")
        value, _ = session_of(login(hub, "aud"))
        r = with_cookie(hub, "GET", "/api/v1/audit/verify", value)
        body = r.json() if r.status == 200 else {}
        check(body.get("ok") is True and body.get("records", 0) > 1 and body.get("store_checked") is True,
              "intact trail, store cross-checked: %d %r" % (r.status, r.body[:300]))
        # The session reaches the service's audit query as the auditor.
        r = with_cookie(hub, "GET", "/api/v1/audit?action=login.failed", value)
        check(r.status == 200, "GET /api/v1/audit with the session: %d" % r.status)


def test_agreements_change_the_running_policy():
    """POST/DELETE /api/v1/agreements on a running hub: the next TAXII read is decided under
    the changed policy, without a restart; the audit names the admin."""
    with Hub(ARGS.ctihub, "console-agreements") as hub:
        hub.setup()
        hub.start()
        amber = indicator(8)  # unmarked: AMBER (no policy.toml)
        hub.post_and_wait("shared", [amber])
        path = hub.objects_path("shared", amber["id"] + "/")
        check(hub.get(path, user="olga").status == 404, "other may not read acme's AMBER yet")
        body = {"id": "acme-to-other", "producer": "org:acme", "recipient": "org:other",
                "max_tlp": "amber", "types": ["indicator"], "legal_basis": "e2e"}

        def api(method, target, user="root", payload=None):
            return hub.request(method, target, body=payload, user=user, basic=True, accept=JSON,
                               content_type=JSON)

        r = api("POST", "/api/v1/agreements", user="bob", payload=body)
        check(r.status == 403 and r.json()["error_id"] == "forbidden", "a reader: %d" % r.status)
        r = api("POST", "/api/v1/agreements", payload=dict(body, max_tlp="purple"))
        check(r.status == 400 and r.json()["error_id"] == "bad_max_tlp"
              and r.json()["details"] == {"field": "max_tlp"}, "bad max_tlp: %d %r" % (r.status, r.body))
        r = api("POST", "/api/v1/agreements", payload=dict(body, recipient="org:nobody"))
        check(r.status == 400 and "unknown org:nobody" in r.json()["description"],
              "unknown organisation: %d %r" % (r.status, r.body))
        r = api("POST", "/api/v1/agreements", payload=body)
        check(r.status == 201 and r.json()["state"] == "active", "add: %d %r" % (r.status, r.body))
        check(eventually(hub, lambda: hub.get(path, user="olga").status == 200),
              "the next TAXII read sees the agreement")
        r = api("GET", "/api/v1/agreements")
        ids = [a["id"] for a in r.json()["agreements"]] if r.status == 200 else []
        check(ids == ["acme-to-other"], "list: %r" % ids)
        r = api("DELETE", "/api/v1/agreements/acme-to-other?reason=e2e%20ended")
        check(r.status == 200 and r.json()["revoked"] is True, "revoke: %d %r" % (r.status, r.body))
        check(eventually(hub, lambda: hub.get(path, user="olga").status == 404),
              "the next TAXII read sees the revocation")
        r = api("DELETE", "/api/v1/agreements/nosuch?reason=x")
        check(r.status == 404 and r.json()["error_id"] == "no_such_agreement", "unknown id: %d" % r.status)
        listed = {a["id"]: a for a in json.loads(hub.cli("agreement", "list", "--json"))}
        check(listed.get("acme-to-other", {}).get("state") == "revoked", "the CLI sees it: %r" % listed)
        hub.stop()
        if skip_in_two_nodes(hub, "the audit check of the agreement changes",
                             "the audit trail is per node and `audit show` reads node A's; "
                             "the add and the revoke went to different nodes"):
            return
        recs = json.loads(hub.cli("audit", "show", "--action", "agreement.changed", "--json"))
        recs = recs if isinstance(recs, list) else recs.get("records", [])
        check(len(recs) == 2 and all(x["user"] == "root" for x in recs),
              "agreement changes audited as root: %r" % recs)


if __name__ == "__main__":
    sys.exit(run_tests([test_login_session_logout, test_csrf_and_bodies_without_credentials,
                        test_login_rate_limit, test_session_idle_expiry, test_ui_not_built_and_no_ui,
                        test_search_through_the_policy, test_audit_verify_for_auditors,
                        test_agreements_change_the_running_policy]))
