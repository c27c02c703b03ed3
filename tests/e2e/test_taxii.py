#!/usr/bin/env python3
"""End to end over real HTTP on 127.0.0.1: every TAXII 2.1 endpoint and filter,
every error status with its error object, authentication and access rules."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub import TAXII, Hub, check, indicator, malware, parse_args, run_tests, urlquote  # noqa: E402

ARGS = parse_args()
HUB = None


def expect_error(r, status, what):
    ok = check(r.status == status, "%s: status %d, want %d: %s" % (what, r.status, status, r.body[:300]))
    try:
        e = r.json()
    except ValueError:
        return check(False, "%s: error body is not JSON: %r" % (what, r.body[:200]))
    ok &= check(isinstance(e.get("title"), str) and bool(e["title"]), "%s: error object has a title" % what)
    ok &= check(e.get("http_status") == str(status), "%s: error http_status %r" % (what, e.get("http_status")))
    ok &= check((r.header("Content-Type") or "").startswith("application/taxii+json"),
                "%s: error content type %r" % (what, r.header("Content-Type")))
    return ok


def test_discovery_and_api_roots():
    for basic in (False, True):
        r = HUB.get("/taxii2/", basic=basic)
        check(r.status == 200, "discovery 200 (basic=%s): %d" % (basic, r.status))
        check(r.header("Content-Type") == TAXII, "discovery content type %r" % r.header("Content-Type"))
        d = r.json()
        roots = d.get("api_roots", [])
        check(any(x.endswith("/api1/") for x in roots) and any(x.endswith("/api2/") for x in roots),
              "discovery lists api roots: %r" % roots)
        check("title" in d and d.get("default", "").endswith("/api1/"), "discovery title/default: %r" % d)
    r = HUB.get("/api1/")
    check(r.status == 200, "api root 200")
    a = r.json()
    check(a.get("versions") == [TAXII], "api root versions %r" % a.get("versions"))
    check(a.get("max_content_length") == 256 * 1024, "api root max_content_length %r" % a.get("max_content_length"))
    expect_error(HUB.get("/nope/"), 404, "unknown api root")
    expect_error(HUB.get("/nope/collections/"), 404, "collections of unknown api root")


def test_content_negotiation():
    check(HUB.get("/taxii2/", accept="application/taxii+json").status == 200, "Accept without version")
    check(HUB.get("/taxii2/", accept="*/*").status == 200, "Accept */*")
    check(HUB.get("/taxii2/", accept=None).status == 200, "no Accept header")
    expect_error(HUB.get("/taxii2/", accept="application/json"), 406, "Accept application/json")
    expect_error(HUB.get("/taxii2/", accept="application/taxii+json;version=2.0"), 406, "Accept TAXII 2.0")
    r = HUB.request("POST", HUB.objects_path("shared"), body={"objects": [indicator(1)]},
                    content_type="application/json")
    expect_error(r, 415, "POST application/json")
    r = HUB.request("POST", HUB.objects_path("shared"), body={"objects": [indicator(1)]},
                    content_type="application/taxii+json")
    check(r.status == 202, "POST application/taxii+json without version: %d" % r.status)


def test_collections_reflect_caller():
    def view(user):
        r = HUB.get("/api1/collections/", user=user)
        check(r.status == 200, "collections 200 for %s" % user)
        return {c["id"]: (c["can_read"], c["can_write"]) for c in r.json().get("collections", [])}
    c = HUB.collections
    a = view("alice")
    check(a == {c["shared"]: (True, True), c["acme"]: (True, True)}, "alice's collections %r" % a)
    b = view("bob")  # reader role: never writes
    check(b == {c["shared"]: (True, False), c["acme"]: (True, False)}, "bob's collections %r" % b)
    o = view("olga")
    check(o == {c["shared"]: (True, False), c["inbox"]: (False, True)}, "olga's collections %r" % o)
    root = view("root")
    check(len(root) == 3 and all(v == (True, True) for v in root.values()), "admin sees all: %r" % root)
    r = HUB.get("/api1/collections/%s/" % c["shared"])
    check(r.status == 200 and r.json()["id"] == c["shared"], "one collection")
    col = r.json()
    check(col.get("media_types") == ["application/stix+json;version=2.1"], "media_types %r" % col)
    expect_error(HUB.get("/api1/collections/%s/" % c["acme"], user="olga"), 404, "invisible collection")
    expect_error(HUB.get("/api1/collections/%s/" % c["api2"]), 404, "collection of another root")
    expect_error(HUB.get("/api1/collections/00000000-0000-4000-8000-000000000000/"), 404, "unknown collection")


def test_post_status_get():
    objs = [indicator(i) for i in range(5)] + [malware("m1")]
    r = HUB.post_objects("acme", objs)
    check(r.status == 202, "POST 202: %d %s" % (r.status, r.body[:200]))
    check(r.header("Content-Type") == TAXII, "POST content type")
    st = r.json()
    check(st["total_count"] == 6 and st["status"] in ("pending", "complete"), "status on 202: %r" % st)
    final = HUB.wait_status(st["id"])
    check(final["success_count"] == 6 and final["failure_count"] == 0 and final["pending_count"] == 0,
          "final status: %r" % final)
    check(len(final.get("successes", [])) == 6, "successes listed")
    # The status belongs to its requester only.
    expect_error(HUB.get("/api1/status/%s/" % st["id"], user="bob"), 404, "someone else's status")
    expect_error(HUB.get("/api1/status/%s/" % st["id"], user="root"), 404, "admin and someone else's status")
    expect_error(HUB.get("/api1/status/00000000-0000-4000-8000-000000000000/"), 404, "unknown status")
    expect_error(HUB.get("/api2/status/%s/" % st["id"]), 404, "status under another root")

    r = HUB.get(HUB.objects_path("acme"))
    check(r.status == 200, "GET objects 200")
    env = r.json()
    ids = {o["id"] for o in env.get("objects", [])}
    check(ids == {o["id"] for o in objs}, "GET returns what was posted")
    check(env.get("more") is False, "more false")
    check(r.header("X-TAXII-Date-Added-First") and r.header("X-TAXII-Date-Added-Last"),
          "X-TAXII-Date-Added headers")
    check(r.header("X-TAXII-Date-Added-First") <= r.header("X-TAXII-Date-Added-Last"), "first <= last")
    stored = {o["id"]: o for o in env["objects"]}
    check(stored[objs[0]["id"]]["pattern"] == objs[0]["pattern"], "object content round trips")

    # Re-posting the same id+version is a success that stores nothing new.
    final = HUB.post_and_wait("acme", objs[:2])
    check(final["success_count"] == 2 and final["failure_count"] == 0, "re-post is success: %r" % final)
    r = HUB.get(HUB.objects_path("acme", "?match[version]=all"))
    check(len(r.json()["objects"]) == 6, "re-post stored nothing new")

    # Invalid objects are failures with a reason; valid ones in the same envelope are stored.
    bad = {"type": "indicator", "spec_version": "2.1", "id": "indicator--" + "1" * 8}
    final = HUB.post_and_wait("acme", [bad, 42, indicator(99)])
    check(final["failure_count"] == 2 and final["success_count"] == 1, "failures counted: %r" % final)
    check(all(f.get("message") for f in final.get("failures", [])), "failures have reasons: %r" % final)
    bad_pattern = indicator(7, pattern="[ipv4-addr:value = ")
    final = HUB.post_and_wait("acme", [bad_pattern])
    check(final["failure_count"] == 1, "invalid pattern is a failure: %r" % final)


def test_filters_versions_manifest_delete():
    base = indicator(1000, modified="2024-03-01T00:00:00.000Z")
    v2 = dict(base, modified="2024-03-02T00:00:00.000Z", name="v2")
    v3 = dict(base, modified="2024-03-03T00:00:00.000Z", name="v3")
    mw = malware("filtered")
    HUB.post_and_wait("shared", [base, v2])
    time.sleep(0.01)
    mid = HUB.get(HUB.objects_path("shared")).header("X-TAXII-Date-Added-Last")
    HUB.post_and_wait("shared", [v3, mw])
    oid = base["id"]

    def ids(query, path=None):
        r = HUB.get(path or HUB.objects_path("shared", "?" + query))
        check(r.status == 200, "GET %s: %d %s" % (query, r.status, r.body[:200]))
        return [(o["id"], o.get("modified")) for o in r.json().get("objects", [])]

    got = ids("match[id]=" + oid)
    check(got == [(oid, "2024-03-03T00:00:00.000Z")], "default is the last version: %r" % got)
    check(len(ids("match[id]=%s&match[version]=all" % oid)) == 3, "match[version]=all")
    check(ids("match[id]=%s&match[version]=first" % oid) == [(oid, "2024-03-01T00:00:00.000Z")], "first")
    check(len(ids("match[id]=%s&match[version]=first,last" % oid)) == 2, "first,last")
    check(ids("match[id]=%s&match[version]=2024-03-02T00:00:00.000Z" % oid) ==
          [(oid, "2024-03-02T00:00:00.000Z")], "version timestamp")
    check({i for i, _ in ids("match[type]=malware")} == {mw["id"]}, "match[type]")
    check(len(ids("match[type]=malware,indicator&match[id]=%s,%s" % (oid, mw["id"]))) == 2, "comma lists")
    check(len(ids("match[type]=malware&match[type]=indicator&match[id]=%s&match[id]=%s" % (oid, mw["id"]))) == 2,
          "repeated parameters")
    check(len(ids("match[spec_version]=2.1&match[id]=" + oid)) == 1, "match[spec_version]=2.1")
    check(ids("match[spec_version]=2.0&match[id]=" + oid) == [], "match[spec_version]=2.0")
    after = ids("match[version]=all&added_after=" + urlquote(mid))
    check({x for x in after} == {(oid, "2024-03-03T00:00:00.000Z"), (mw["id"], "2024-01-01T00:00:00.000Z")},
          "added_after: %r" % after)
    check(ids("match[type]=campaign") == [], "no match: empty")
    r = HUB.get(HUB.objects_path("shared", "?match[type]=campaign"))
    check(r.json().get("more") is False, "empty envelope says more=false")

    # One object.
    r = HUB.get(HUB.objects_path("shared", oid + "/"))
    check(r.status == 200 and [o["modified"] for o in r.json()["objects"]] == ["2024-03-03T00:00:00.000Z"],
          "object endpoint: last version")
    r = HUB.get(HUB.objects_path("shared", oid + "/?match[version]=all"))
    check(len(r.json()["objects"]) == 3, "object endpoint: all versions")
    r = HUB.get(HUB.objects_path("shared", oid + "/?match[version]=all&limit=2"))
    check(len(r.json()["objects"]) == 2 and r.json()["more"] is True and r.json().get("next"),
          "object endpoint pages")
    expect_error(HUB.get(HUB.objects_path("shared", "indicator--00000000-0000-4000-8000-000000000000/")), 404,
                 "unknown object")

    # Versions.
    r = HUB.get(HUB.objects_path("shared", oid + "/versions/"))
    check(r.status == 200, "versions 200")
    check(r.json().get("versions") == ["2024-03-01T00:00:00.000Z", "2024-03-02T00:00:00.000Z",
                                       "2024-03-03T00:00:00.000Z"], "versions: %r" % r.json())
    check(r.header("X-TAXII-Date-Added-First") is not None, "versions date headers")
    r = HUB.get(HUB.objects_path("shared", oid + "/versions/?limit=1"))
    check(len(r.json()["versions"]) == 1 and r.json()["more"] is True, "versions page")
    expect_error(HUB.get(HUB.objects_path("shared", "indicator--00000000-0000-4000-8000-000000000000/versions/")),
                 404, "versions of unknown object")

    # Manifest.
    r = HUB.get("/api1/collections/%s/manifest/?match[id]=%s&match[version]=all" % (HUB.collections["shared"], oid))
    check(r.status == 200, "manifest 200")
    m = r.json().get("objects", [])
    check(len(m) == 3 and all(e["id"] == oid and e["media_type"] == "application/stix+json;version=2.1"
                              and e["date_added"] and e["version"] for e in m), "manifest entries %r" % m)
    check(r.header("X-TAXII-Date-Added-Last") is not None, "manifest date headers")
    r = HUB.get("/api1/collections/%s/manifest/?match[type]=malware" % HUB.collections["shared"])
    check([e["id"] for e in r.json().get("objects", [])] == [mw["id"]], "manifest match[type]")

    # Delete: a reader may not, a writer may; selected versions only.
    expect_error(HUB.request("DELETE", HUB.objects_path("shared", oid + "/"), user="bob"), 403, "reader deletes")
    r = HUB.request("DELETE", HUB.objects_path("shared", oid + "/?match[version]=first"))
    check(r.status == 200, "DELETE first version: %d %s" % (r.status, r.body[:200]))
    r = HUB.get(HUB.objects_path("shared", oid + "/versions/"))
    check(len(r.json()["versions"]) == 2, "one version deleted")
    r = HUB.request("DELETE", HUB.objects_path("shared", oid + "/?match[version]=all"))
    check(r.status == 200, "DELETE all versions")
    expect_error(HUB.get(HUB.objects_path("shared", oid + "/")), 404, "deleted object is gone")
    expect_error(HUB.request("DELETE", HUB.objects_path("shared", oid + "/")), 404, "DELETE unknown object")


def test_paging_returns_everything_once():
    objs = [indicator(i) for i in range(57)]
    HUB.post_and_wait("api2", objs) if False else None
    HUB.post_and_wait(HUB.collections["acme"], objs)
    all_ids = [o["id"] for o in HUB.get_all("acme", "match[version]=all", limit=1000)[0]]
    for limit in (1, 7, 50):
        got, pages = HUB.get_all("acme", "match[version]=all", limit=limit)
        ids = [o["id"] for o in got]
        check(len(ids) == len(set(ids)), "limit=%d: no duplicates" % limit)
        check(sorted(ids) == sorted(all_ids), "limit=%d: every object once (%d vs %d)" % (limit, len(ids), len(all_ids)))
        check(pages >= len(all_ids) // limit, "limit=%d: %d pages" % (limit, pages))


def test_access_errors():
    c = HUB.collections
    r = HUB.get("/taxii2/", user=None)
    expect_error(r, 401, "no credentials")
    check((r.header("WWW-Authenticate") or "").startswith("Basic"), "WWW-Authenticate: %r" % r.header("WWW-Authenticate"))
    expect_error(HUB.get("/api1/collections/", user=None), 401, "collections without credentials")
    expect_error(HUB.get("/taxii2/", headers={"Authorization": "Bearer nope"}, user=None), 401, "bad token")
    expect_error(HUB.get("/taxii2/", headers={"Authorization": "Basic YWxpY2U6d3Jvbmc="}, user=None), 401,
                 "wrong password")
    expect_error(HUB.get("/taxii2/", headers={"Authorization": "Basic !!!"}, user=None), 401, "malformed basic")
    expect_error(HUB.get("/taxii2/", headers={"Authorization": "Digest x"}, user=None), 401, "unknown scheme")
    # 403: visible but not readable / writable.
    expect_error(HUB.post_objects("shared", [indicator(1)], user="bob"), 403, "reader POSTs")
    expect_error(HUB.post_objects("shared", [indicator(1)], user="olga"), 403, "non-writer POSTs")
    expect_error(HUB.get(HUB.objects_path("inbox"), user="olga"), 403, "write-only collection GET")
    expect_error(HUB.get("/api1/collections/%s/manifest/" % c["inbox"], user="olga"), 403, "write-only manifest")
    r = HUB.post_objects("inbox", [indicator(1)], user="olga")
    check(r.status == 202, "write-only collection POST 202: %d" % r.status)
    # 404: invisible.
    expect_error(HUB.get(HUB.objects_path("acme"), user="olga"), 404, "invisible collection GET")
    expect_error(HUB.post_objects("acme", [indicator(1)], user="olga"), 404, "invisible collection POST")
    # 405.
    expect_error(HUB.request("PUT", HUB.objects_path("shared"), body={}), 405, "PUT objects")
    expect_error(HUB.request("POST", "/taxii2/", body={}), 405, "POST discovery")


def test_bad_requests():
    p = HUB.objects_path("shared")
    for q in ("limit=0", "limit=-1", "limit=abc", "added_after=yesterday", "match[version]=newest",
              "match[spec_version]=3.0", "match[type]=Not%20A%20Type", "next=garbage", "next=",
              "match[id]=notanid"):
        expect_error(HUB.get(p + "?" + q), 400, "bad filter " + q)
    expect_error(HUB.request("POST", p, body="{not json"), 400, "invalid JSON")
    expect_error(HUB.request("POST", p, body="[]"), 400, "envelope not an object")
    expect_error(HUB.request("POST", p, body='{"objects": 5}'), 400, "objects not an array")
    big = {"objects": [dict(indicator(i), description="x" * 1000) for i in range(300)]}  # > 256 KiB of api1
    check(len(json.dumps(big)) > 256 * 1024, "test body is large enough")
    expect_error(HUB.request("POST", p, body=big), 413, "body over max_content_length")
    expect_error(HUB.get("/api1/collections/%zz/"), 400, "bad percent escape")


def test_healthz_metrics():
    # Defaults: /healthz public (load balancers), /metrics for admin and auditor users only.
    r = HUB.get("/healthz", user=None)
    check(r.status == 200 and r.body == b"ok\n", "healthz")
    r = HUB.get("/metrics", user=None)
    expect_error(r, 401, "metrics without credentials")
    check((r.header("WWW-Authenticate") or "").startswith("Basic"), "metrics 401 WWW-Authenticate")
    check(b"ctihub_http_requests_total" not in r.body, "no metrics without credentials")
    expect_error(HUB.get("/metrics", user=None, headers={"Authorization": "Bearer cth_nope"}), 401,
                 "metrics with a bad token")
    expect_error(HUB.get("/metrics", user="alice"), 403, "metrics for a publisher")
    check(HUB.get("/metrics", user="root", basic=True).status == 200, "metrics for admin (Basic)")
    r = HUB.get("/metrics", user="root")
    text = r.body.decode()
    check(r.status == 200 and "ctihub_http_requests_total{" in text, "metrics requests (admin token)")
    check('ctihub_http_requests_total{route="metrics",status="401"}' in text, "metrics counts its 401s")
    for name in ("ctihub_http_request_duration_seconds_bucket", "ctihub_objects_stored",
                 "ctihub_objects_ingested_total", "ctihub_ingest_rate_objects_per_second"):
        check(name in text, "metrics has " + name)


def main():
    global HUB
    with Hub(ARGS.ctihub, "taxii") as hub:
        HUB = hub
        hub.setup().start()
        rc = run_tests([test_discovery_and_api_roots, test_content_negotiation, test_collections_reflect_caller,
                        test_post_status_get, test_filters_versions_manifest_delete,
                        test_paging_returns_everything_once, test_access_errors, test_bad_requests,
                        test_healthz_metrics])
        alive = hub.proc.poll() is None
        check(alive, "server still running after all tests")
        code = hub.stop()
        check(code == 0, "server exits 0 on SIGTERM (got %r)" % code)
        if not alive or code != 0:
            print(hub.tail_stderr())
            rc = 1
    return rc if not __import__("hub").FAILURES else 1


if __name__ == "__main__":
    sys.exit(main())
