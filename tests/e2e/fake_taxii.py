"""A small independent TAXII 2.1 server for the client's tests (Python stdlib).

It is not ctihub: it pages the way other servers do, and each `mode` makes it
misbehave the way real servers have been seen to:

  normal                 next tokens + X-TAXII-Date-Added-* headers
  next_and_added_after   next tokens that are only valid with the added_after
                         they were issued for (moving added_after as well skips)
  more_without_next      more=true without next; pages by added_after only
  ignore_added_after     more without next, and added_after ignored after the
                         first page (the same page again, forever)
  repeat_page            a new next token each time, but the second page
                         repeats the first (and no X-TAXII-Date-Added-* headers)
  repeat_next            the same next token on every page
  more_no_cursor         more=true without next and without the headers
  flaky_500              every path answers 500 twice, then normally
  always_500             every request answers 500
  rate_429               every path answers 429 (Retry-After: 1) once
  garbage                answers bytes that are not HTTP
  garbage_json           200 with a body that is not JSON
  close_mid_body         promises 1000 bytes, sends 10, closes
  slow                   answers nothing for 5 s
  huge                   a 2 MiB body
  cross_origin           the discovery's default API root is on 127.0.0.2

Discovery is at /taxii2/; `root_form` says how it names the API root:
"relative" (/api1/), "relative_noslash" (api1/, so /taxii2/api1/), "absolute".
Only 127.0.0.1 is listened on.
"""
import base64
import json
import socketserver
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

TAXII = "application/taxii+json;version=2.1"
COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"


def make_objects(n):
    out = []
    for i in range(n):
        out.append({"type": "indicator", "spec_version": "2.1",
                    "id": "indicator--%s" % uuid.UUID(int=i + 1),
                    "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                    "name": "fake %d" % i, "pattern": "[ipv4-addr:value = '203.0.113.%d']" % (i + 1),
                    "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"})
    return out


def date_added(i):
    return "2024-03-01T00:00:%02d.000000Z" % (i + 1)


class State:
    def __init__(self, mode, objects, page_size, root_form, auth):
        self.mode = mode
        self.objects = objects
        self.page_size = page_size
        self.root_form = root_form
        self.auth = auth            # expected Authorization header value, or None
        self.hits = {}              # path -> count
        self.requests = []          # (method, path, Authorization present)
        self.posted = []            # objects received
        self.statuses = {}
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeTaxii/0.1"

    def log_message(self, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on a response it found too large

    @property
    def st(self):
        return self.server.state

    def send_json(self, status, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", TAXII)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, title):
        self.send_json(status, {"title": title, "http_status": str(status)})

    def count_hit(self, path):
        with self.st.lock:
            self.st.hits[path] = self.st.hits.get(path, 0) + 1
            self.st.requests.append((self.command, self.path, self.headers.get("Authorization") is not None))
            return self.st.hits[path]

    def misbehave(self, hits):
        """Handles the transport-level modes; True when the request is answered."""
        m = self.st.mode
        if m == "always_500" or (m == "flaky_500" and hits <= 2):
            self.error(500, "internal error (fake)")
            return True
        if m == "rate_429" and hits == 1:
            self.send_response(429)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return True
        if m == "garbage":
            self.wfile.write(b"\x00\x01garbage that is not HTTP\r\n\r\n")
            self.close_connection = True
            return True
        if m == "garbage_json":
            body = b"<html>not json</html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return True
        if m == "close_mid_body":
            self.send_response(200)
            self.send_header("Content-Type", TAXII)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'{"title":"')
            self.wfile.flush()
            self.close_connection = True
            return True
        if m == "slow":
            time.sleep(5)
            self.close_connection = True
            return True
        if m == "huge":
            body = b'{"title":"' + b"x" * (2 << 20) + b'"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return True
        return False

    def authorized(self):
        if self.st.auth is None:
            return True
        if self.headers.get("Authorization") == self.st.auth:
            return True
        self.error(401, "unauthorized")
        return False

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if self.misbehave(self.count_hit(path)) or not self.authorized():
            return
        params = {}
        for kv in query.split("&") if query else []:
            k, _, v = kv.partition("=")
            from urllib.parse import unquote
            params[unquote(k)] = unquote(v)
        if path == "/taxii2/":
            return self.discovery()
        if path.endswith("/api1/"):
            return self.send_json(200, {"title": "fake root", "versions": [TAXII],
                                        "max_content_length": 10 << 20})
        if path.endswith("/api1/collections/"):
            return self.send_json(200, {"collections": [{"id": COLLECTION, "title": "fake",
                                                         "can_read": True, "can_write": True}]})
        if path.endswith("/collections/%s/objects/" % COLLECTION):
            return self.objects(params, manifest=False)
        if path.endswith("/collections/%s/manifest/" % COLLECTION):
            return self.objects(params, manifest=True)
        if "/api1/status/" in path:
            sid = path.rstrip("/").rsplit("/", 1)[1]
            with self.st.lock:
                s = self.st.statuses.get(sid)
                if s is None:
                    return self.error(404, "no such status")
                s["polls"] += 1
                body = dict(s["body"])
                if s["polls"] >= 2:
                    body.update(status="complete", success_count=body["total_count"], pending_count=0)
            return self.send_json(200, body)
        self.error(404, "not found")

    def do_POST(self):
        path = self.path.partition("?")[0]
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        if self.misbehave(self.count_hit(path)) or not self.authorized():
            return
        if not path.endswith("/collections/%s/objects/" % COLLECTION):
            return self.error(404, "not found")
        env = json.loads(raw)
        objs = env.get("objects", [])
        sid = str(uuid.uuid4())
        body = {"id": sid, "status": "pending", "total_count": len(objs), "success_count": 0,
                "failure_count": 0, "pending_count": len(objs)}
        with self.st.lock:
            self.st.posted += objs
            self.st.statuses[sid] = {"polls": 0, "body": body}
        self.send_json(202, body)

    def discovery(self):
        host = "127.0.0.1:%d" % self.server.server_address[1]
        scheme = "https" if self.server.tls else "http"
        form = self.st.root_form
        root = {"relative": "/api1/", "relative_noslash": "api1/",
                "absolute": "%s://%s/api1/" % (scheme, host)}[form]
        if self.st.mode == "cross_origin":
            root = "%s://127.0.0.2:%d/api1/" % (scheme, self.server.server_address[1])
        self.send_json(200, {"title": "fake", "default": root, "api_roots": [root]})

    def objects(self, params, manifest):
        objs = self.st.objects
        mode = self.st.mode
        size = int(params.get("limit", self.st.page_size))
        added_after = params.get("added_after")
        start = 0
        if "next" in params:
            token = params["next"]
            if mode == "next_and_added_after":
                # The token is an offset into the result of the query it was
                # issued for: sent with another added_after, it skips a page.
                offset, issued_for = token.split("|", 1)
                start = int(offset) + (0 if issued_for == (added_after or "") else size)
            elif mode == "repeat_page":
                start = 0
            elif mode == "repeat_next":
                start = self.server.repeat_next_offset
            else:
                start = int(token)
        elif added_after and not (mode == "ignore_added_after"):
            start = sum(1 for i in range(len(objs)) if date_added(i) <= added_after)
        page = list(range(start, min(len(objs), start + size)))
        more = page[-1] + 1 < len(objs) if page else False
        env = {"more": more}
        headers = {}
        if page and mode not in ("more_no_cursor", "repeat_page"):
            headers["X-TAXII-Date-Added-First"] = date_added(page[0])
            headers["X-TAXII-Date-Added-Last"] = date_added(page[-1])
        if more and mode not in ("more_without_next", "ignore_added_after", "more_no_cursor"):
            nxt = start + size
            if mode == "next_and_added_after":
                env["next"] = "%d|%s" % (nxt, added_after or "")
            elif mode == "repeat_page":
                env["next"] = str(uuid.uuid4())
            elif mode == "repeat_next":
                self.server.repeat_next_offset = nxt
                env["next"] = "same"
            else:
                env["next"] = str(nxt)
        if manifest:
            env["objects"] = [{"id": objs[i]["id"], "date_added": date_added(i),
                               "version": objs[i]["modified"], "media_type": "application/stix+json;version=2.1"}
                              for i in page]
        else:
            env["objects"] = [objs[i] for i in page]
        self.send_json(200, env, headers)


class FakeTaxiiServer(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mode="normal", n_objects=7, page_size=3, root_form="relative", auth=None,
                 certfile=None, keyfile=None):
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = State(mode, make_objects(n_objects), page_size, root_form, auth)
        self.tls = certfile is not None
        self.repeat_next_offset = 0
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(certfile, keyfile)
            self.socket = ctx.wrap_socket(self.socket, server_side=True)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self):
        return "%s://127.0.0.1:%d/taxii2/" % ("https" if self.tls else "http", self.server_address[1])

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
