#!/usr/bin/env python3
"""End to end: the TAXII 2.1 client (`ctihub remote`) against an independent
fake server (fake_taxii.py) showing each quirk real servers have, against
`ctihub serve` itself, and over TLS (verification on by default, --ca-file,
--insecure-tls). Everything listens on 127.0.0.1."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_taxii import COLLECTION, FakeTaxiiServer, basic, make_objects  # noqa: E402
from hub import Hub, check, indicator, parse_args, run_tests  # noqa: E402

ARGS = parse_args()
ALL_IDS = [o["id"] for o in make_objects(7)]


def remote(*args, stdin=None, timeout=60):
    r = subprocess.run([ARGS.ctihub, "remote"] + list(args), input=stdin, capture_output=True,
                       text=True, timeout=timeout)
    return r


def ids_of(stdout):
    return [json.loads(line)["id"] for line in stdout.splitlines() if line.strip()]


def objects_of(server, *extra, stdin=None, timeout=60):
    return remote("objects", server.url, "--collection", COLLECTION, *extra, stdin=stdin, timeout=timeout)


def expect_fail(r, name, what):
    check(r.returncode == 2, "%s: exit %d, want 2 (stderr %s)" % (what, r.returncode, r.stderr[-300:]))
    check(name in r.stderr, "%s: error names %s: %r" % (what, name, r.stderr[-300:]))


def test_normal_paging_and_root_forms():
    for form in ("relative", "relative_noslash", "absolute"):
        with FakeTaxiiServer(root_form=form) as s:
            d = remote("discover", s.url)
            check(d.returncode == 0, "%s: discover exit %d: %s" % (form, d.returncode, d.stderr))
            want_root = "/taxii2/api1/" if form == "relative_noslash" else "/api1/"
            check(("127.0.0.1:%d%s" % (s.server_address[1], want_root)) in d.stdout,
                  "%s: api root resolved to %s: %r" % (form, want_root, d.stdout))
            r = objects_of(s)
            check(r.returncode == 0, "%s: objects exit %d: %s" % (form, r.returncode, r.stderr))
            check(ids_of(r.stdout) == ALL_IDS, "%s: every object once, in order: %r" % (form, ids_of(r.stdout)))
            check("in 3 pages" in r.stderr, "%s: three pages: %r" % (form, r.stderr))
    with FakeTaxiiServer() as s:
        r = remote("collections", s.url)
        check(r.returncode == 0 and COLLECTION in r.stdout and "\trw\t" in r.stdout,
              "collections listed: %r %r" % (r.stdout, r.stderr))
        r = remote("manifest", s.url, "--collection", COLLECTION, "--limit", "2")
        entries = [json.loads(line) for line in r.stdout.splitlines()]
        check(r.returncode == 0 and [e["id"] for e in entries] == ALL_IDS,
              "manifest lists every object once: %r %s" % (entries, r.stderr))
        check("in 4 pages" in r.stderr, "manifest honours --limit 2: %r" % r.stderr)
        r = objects_of(s, "--max-pages", "2")
        expect_fail(r, "too_many_pages", "page limit")


def test_next_and_added_after():
    # The next token is only valid beside the added_after it was issued for.
    with FakeTaxiiServer(mode="next_and_added_after") as s:
        r = objects_of(s, "--added-after", "2024-03-01T00:00:01.000000Z")
        check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
        check(ids_of(r.stdout) == ALL_IDS[1:], "objects after the first, each once: %r" % ids_of(r.stdout))
        check("last date_added 2024-03-01T00:00:07.000000Z" in r.stderr, "resume point: %r" % r.stderr)


def test_more_without_next():
    with FakeTaxiiServer(mode="more_without_next") as s:
        r = objects_of(s)
        check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
        check(ids_of(r.stdout) == ALL_IDS, "pages by added_after, each object once: %r" % ids_of(r.stdout))
        asked = [p for m, p, _ in s.state.requests if "/objects/" in p]
        check(len(asked) == 3 and "added_after=2024-03-01T00%3A00%3A03.000000Z" in asked[1],
              "second request moves added_after to the last date added: %r" % asked)


def test_loops_end_with_a_clear_error():
    for mode, name in (("ignore_added_after", "added_after_ignored"), ("repeat_page", "page_repeated"),
                       ("repeat_next", "next_repeated"), ("more_no_cursor", "more_without_cursor")):
        with FakeTaxiiServer(mode=mode) as s:
            r = objects_of(s, timeout=30)
            expect_fail(r, name, mode)
            pages = sum(1 for m, p, _ in s.state.requests if "/objects/" in p)
            check(pages <= 3, "%s: stopped after %d object requests" % (mode, pages))


def test_retries_and_rate_limit():
    with FakeTaxiiServer(mode="flaky_500") as s:
        r = objects_of(s)
        check(r.returncode == 0 and ids_of(r.stdout) == ALL_IDS, "500 twice then ok: %d %s" % (r.returncode, r.stderr))
        check(s.state.hits.get("/taxii2/") == 3, "discovery tried 3 times: %r" % s.state.hits)
    with FakeTaxiiServer(mode="always_500") as s:
        r = objects_of(s, "--attempts", "3")
        expect_fail(r, "server_error", "always 500")
        check(len(s.state.requests) == 3, "3 attempts, then gave up: %d" % len(s.state.requests))
    with FakeTaxiiServer(mode="rate_429") as s:
        r = objects_of(s)
        check(r.returncode == 0 and ids_of(r.stdout) == ALL_IDS, "429 then ok: %d %s" % (r.returncode, r.stderr))
        check(s.state.hits.get("/taxii2/") == 2, "discovery retried after Retry-After: %r" % s.state.hits)


def test_broken_servers():
    cases = [("garbage", "bad_http", []), ("garbage_json", "bad_response", []),
             ("close_mid_body", "connection_closed", []),
             ("slow", "timeout", ["--request-timeout", "0.5"]),
             ("huge", "response_too_large", ["--max-response-bytes", "1048576"]),
             ("cross_origin", "cross_origin", [])]
    for mode, name, extra in cases:
        with FakeTaxiiServer(mode=mode) as s:
            r = objects_of(s, "--attempts", "1" if mode == "slow" else "2", *extra, timeout=60)
            expect_fail(r, name, mode)
    with FakeTaxiiServer(mode="close_mid_body") as s:
        objects_of(s, "--attempts", "2")
        check(len(s.state.requests) == 2, "a connection closed mid-body is retried: %d" % len(s.state.requests))


def test_credentials():
    with FakeTaxiiServer(auth=basic("peer", "s3cret-pass")) as s:
        r = objects_of(s, "--user", "peer", "--password-stdin", stdin="s3cret-pass\n")
        check(r.returncode == 0 and ids_of(r.stdout) == ALL_IDS, "basic auth: %d %s" % (r.returncode, r.stderr))
        r = objects_of(s, "--user", "peer", "--password-stdin", stdin="wrong\n")
        expect_fail(r, "unauthorized", "wrong password")
        check("wrong" not in r.stderr, "the password is not printed: %r" % r.stderr)
    with FakeTaxiiServer(auth="Bearer tok-123") as s:
        r = objects_of(s, "--token-stdin", stdin="tok-123\n")
        check(r.returncode == 0 and ids_of(r.stdout) == ALL_IDS, "bearer: %d %s" % (r.returncode, r.stderr))


def test_push_polls_status():
    with FakeTaxiiServer() as s, tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bundle.json")
        objs = [indicator(i) for i in range(5)]
        with open(path, "w") as f:
            json.dump({"type": "bundle", "id": "bundle--0d5f6d8e-4b44-4c1c-8e7c-6f1b9a7b0c01", "objects": objs}, f)
        r = remote("push", s.url, "--collection", COLLECTION, "--batch", "2", path)
        check(r.returncode == 0 and "pushed 5, refused 0" in r.stdout, "push: %d %r %r" % (r.returncode, r.stdout, r.stderr))
        check(sorted(o["id"] for o in s.state.posted) == sorted(o["id"] for o in objs), "server got every object")
        check(len(s.state.statuses) == 3 and all(v["polls"] >= 2 for v in s.state.statuses.values()),
              "3 POSTs, each status polled until complete: %r" % s.state.statuses)


def test_against_ctihub():
    with Hub(ARGS.ctihub, "client") as hub:
        hub.setup().start()
        objs = [indicator(i) for i in range(5)]
        hub.post_and_wait("shared", objs)
        url = "http://127.0.0.1:%d/taxii2/" % hub.port
        col = hub.collections["shared"]
        r = remote("discover", url, "--token-stdin", stdin=hub.tokens["bob"] + "\n")
        check(r.returncode == 0 and "/api1/" in r.stdout, "discover ctihub: %d %r %s" % (r.returncode, r.stdout, r.stderr))
        r = remote("objects", url, "--collection", col, "--limit", "2", "--token-stdin", stdin=hub.tokens["bob"] + "\n")
        got = ids_of(r.stdout)
        check(r.returncode == 0 and sorted(got) == sorted(o["id"] for o in objs) and len(got) == 5,
              "every object once over 3 pages: %d %r %s" % (r.returncode, got, r.stderr))
        last = r.stderr.strip().rsplit(" ", 1)[-1]
        r = remote("objects", url, "--collection", col, "--added-after", last, "--token-stdin",
                   stdin=hub.tokens["bob"] + "\n")
        check(r.returncode == 0 and ids_of(r.stdout) == [], "nothing after the resume point: %r %s" % (r.stdout, r.stderr))
        r = remote("manifest", url, "--collection", col, "--user", "bob", "--password-stdin",
                   stdin=hub.passwords["bob"] + "\n")
        check(r.returncode == 0 and len(r.stdout.splitlines()) == 5, "manifest with Basic: %r %s" % (r.stdout, r.stderr))
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "b.json")
            pushed = [indicator(10 + i) for i in range(3)] + [{"type": "indicator", "id": "indicator--bad"}]
            with open(path, "w") as f:
                json.dump({"type": "bundle", "id": "bundle--0d5f6d8e-4b44-4c1c-8e7c-6f1b9a7b0c02", "objects": pushed}, f)
            r = remote("push", url, "--collection", col, path, "--token-stdin", stdin=hub.tokens["alice"] + "\n")
            check(r.returncode == 1 and "pushed 3, refused 1" in r.stdout, "push to ctihub: %d %r %s" % (r.returncode, r.stdout, r.stderr))
            stored, _ = hub.get_all("shared")
            check(len(stored) == 8, "ctihub stored the 3 valid objects: %d" % len(stored))
            r = remote("push", url, "--collection", col, path, "--token-stdin", stdin=hub.tokens["bob"] + "\n")
            expect_fail(r, "forbidden", "a reader cannot push")
        r = remote("objects", url, "--collection", col, "--token-stdin", stdin="not-a-token\n")
        expect_fail(r, "unauthorized", "bad token")


def make_cert(d, name, san):
    cert, key = os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=" + name, "-addext", "subjectAltName=" + san],
                       capture_output=True, timeout=60)
    check(r.returncode == 0, "openssl made a certificate: %s" % r.stderr[-300:])
    return cert, key


def test_tls_verification():
    with Hub(ARGS.ctihub, "client-tls") as hub:
        hub.setup()
        cert, key = make_cert(hub.dir, "right", "IP:127.0.0.1")
        hub.start("--tls-cert", cert, "--tls-key", key)
        url = "https://127.0.0.1:%d/taxii2/" % hub.port
        tok = hub.tokens["bob"] + "\n"
        r = remote("discover", url, "--token-stdin", stdin=tok)
        expect_fail(r, "tls_verify_failed", "self-signed, no --ca-file")
        r = remote("discover", url, "--token-stdin", "--ca-file", cert, stdin=tok)
        check(r.returncode == 0 and "/api1/" in r.stdout, "--ca-file trusts it: %d %s" % (r.returncode, r.stderr))
        r = remote("discover", url, "--token-stdin", "--insecure-tls", stdin=tok)
        check(r.returncode == 0 and "not verified" in r.stderr, "--insecure-tls: %d %s" % (r.returncode, r.stderr))
        hub.stop()
        wrong, wrong_key = make_cert(hub.dir, "wrong", "DNS:other.example")
        hub.start("--tls-cert", wrong, "--tls-key", wrong_key)
        url = "https://127.0.0.1:%d/taxii2/" % hub.port
        r = remote("discover", url, "--token-stdin", "--ca-file", wrong, stdin=tok)
        expect_fail(r, "tls_verify_failed", "trusted CA but a certificate for another host")
        check("mismatch" in r.stderr, "says the name does not match: %r" % r.stderr[-300:])


if __name__ == "__main__":
    sys.exit(run_tests([test_normal_paging_and_root_forms, test_next_and_added_after, test_more_without_next,
                        test_loops_end_with_a_clear_error, test_retries_and_rate_limit, test_broken_servers,
                        test_credentials, test_push_polls_status, test_against_ctihub, test_tls_verification]))
