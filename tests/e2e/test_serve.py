#!/usr/bin/env python3
"""End to end: `ctihub serve` options. TLS with a certificate, refusing plain
HTTP on a non-loopback address, the TOML config file with flags overriding it,
HEAD requests."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hub as hubmod  # noqa: E402
from hub import Hub, check, indicator, parse_args, run_tests  # noqa: E402

ARGS = parse_args()


def test_tls():
    with Hub(ARGS.ctihub, "tls") as hub:
        hub.setup()
        cert, key = os.path.join(hub.dir, "cert.pem"), os.path.join(hub.dir, "key.pem")
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                            "-out", cert, "-days", "1", "-subj", "/CN=localhost"], capture_output=True)
        if not check(r.returncode == 0, "openssl made a certificate"):
            return
        hub.start("--tls-cert", cert, "--tls-key", key)
        check(hub.tls, "server prints an https URL: %r" % hub.url)
        r = hub.get("/taxii2/")
        check(r.status == 200, "discovery over TLS: %d" % r.status)
        check(all(u.startswith("https://") for u in r.json()["api_roots"]), "https API root URLs")
        st = hub.post_and_wait("shared", [indicator(1)])
        check(st["success_count"] == 1, "POST over TLS")
        # Plain HTTP to a TLS port gets no answer, and the server survives it.
        raw = hub.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", read_timeout=3)
        check(b"200 OK" not in raw, "no plain HTTP on the TLS port")
        check(hub.get("/healthz", user=None).status == 200, "TLS server alive after plain HTTP")
        check(hub.stop() == 0, "TLS server exits 0")


def test_refuses_plain_http_off_loopback():
    with Hub(ARGS.ctihub, "refuse") as hub:
        hub.setup()
        r = subprocess.run([ARGS.ctihub, "serve", "--data", hub.data, "--listen", "0.0.0.0:0"],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 2 and "insecure-http" in r.stderr, "refused: %d %s" % (r.returncode, r.stderr))
        r = subprocess.run([ARGS.ctihub, "serve", "--data", hub.data, "--listen", "127.0.0.1:0",
                            "--tls-cert", "/nonexistent.pem"], capture_output=True, text=True, timeout=30)
        check(r.returncode == 2, "cert without key refused: %d" % r.returncode)
        r = subprocess.run([ARGS.ctihub, "serve", "--data", os.path.join(hub.dir, "nothing"), "--listen",
                            "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
        check(r.returncode == 2, "missing database refused: %d %s" % (r.returncode, r.stderr))
        hub.start("--insecure-http")  # --listen 127.0.0.1:0 from start(); the flag is accepted
        check(hub.get("/healthz", user=None).status == 200, "--insecure-http accepted")


def test_config_file_and_flag_override():
    with Hub(ARGS.ctihub, "config") as hub:
        hub.setup()
        cfg = os.path.join(hub.dir, "ctihub.toml")
        with open(cfg, "w") as f:
            f.write('listen = "127.0.0.1:1"\ntitle = "From config"\ncontact = "soc@example.org"\n'
                    'page_size = 3\naccess_log = false\npublic_health = false\n')
        # start() passes --listen 127.0.0.1:0 and --data, which override the file.
        hub.start("--config", cfg, "--title", "From flag", "--public-metrics", "true")
        r = hub.get("/healthz", user=None)
        check(r.status == 401 and r.header("WWW-Authenticate"), "public_health = false: 401 %d" % r.status)
        check(hub.get("/healthz", user="bob").body == b"ok\n", "private /healthz for any user")
        check(hub.get("/metrics", user=None).status == 200, "--public-metrics true")
        d = hub.get("/taxii2/").json()
        check(d["title"] == "From flag", "flag overrides config: %r" % d["title"])
        check(d.get("contact") == "soc@example.org", "config value used: %r" % d.get("contact"))
        hub.post_and_wait("shared", [indicator(i) for i in range(5)])
        env = hub.get(hub.objects_path("shared")).json()
        check(len(env["objects"]) == 3 and env["more"] is True, "page_size from config")
        r = hub.request("HEAD", "/taxii2/")
        check(r.status == 200 and r.body == b"" and int(r.header("Content-Length")) > 0, "HEAD")
        bad = os.path.join(hub.dir, "bad.toml")
        with open(bad, "w") as f:
            f.write('lisen = "127.0.0.1:0"\n')
        r = subprocess.run([ARGS.ctihub, "serve", "--config", bad, "--data", hub.data], capture_output=True,
                           text=True, timeout=30)
        check(r.returncode == 2 and "lisen" in r.stderr, "unknown config key refused: %s" % r.stderr)


if __name__ == "__main__":
    rc = run_tests([test_tls, test_refuses_plain_http_off_loopback, test_config_file_and_flag_override])
    sys.exit(1 if hubmod.FAILURES else rc)
