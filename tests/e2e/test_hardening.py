#!/usr/bin/env python3
"""End to end: weak defaults refused (issue 12, "Hardening the trust core").
Short and common passwords are refused by `user add`; `serve --config DIR`
fails instead of starting with defaults; a second `serve` on a data directory
already served fails and names the first server's pid, which keeps serving; a
policy file broken while the hub runs is logged, shown on /healthz and /metrics
and explained by `ctihub policy check`, while the last good policy stays in force."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub import Hub, check, indicator, parse_args, run_tests, skip_in_two_nodes  # noqa: E402

ARGS = parse_args()


def add_user(hub, name, password):
    return subprocess.run([ARGS.ctihub, "user", "add", name, "--org", "acme", "--role", "admin",
                           "--password-stdin", "--data", hub.data], input=password + "\n",
                          capture_output=True, text=True, timeout=60)


def test_weak_passwords_refused():
    with Hub(ARGS.ctihub, "pw") as hub:
        hub.cli("init")
        hub.cli("org", "add", "acme")
        for pw in ["x", "s3cret-pw", "qwerty123456", "Password1234"]:
            r = add_user(hub, "weak", pw)
            check(r.returncode == 2, "password %r refused (rc %d)" % (pw, r.returncode))
            check("weak_password" in r.stderr, "the reason is named: %r" % r.stderr)
            check(pw not in r.stderr, "the password is not echoed")
        listed = hub.cli("user", "list")
        check("weak" not in listed, "no user was added: %r" % listed)
        r = add_user(hub, "strong", "violet anchor drifts slowly")
        check(r.returncode == 0, "a long uncommon password is accepted: %s" % r.stderr)


def test_config_directory_refused():
    with Hub(ARGS.ctihub, "cfgdir") as hub:
        hub.setup()
        cfg_dir = os.path.join(hub.dir, "conf.d")
        os.mkdir(cfg_dir)
        r = subprocess.run([ARGS.ctihub, "serve", "--config", cfg_dir, "--data", hub.data,
                            "--listen", "127.0.0.1:0", "--threads", "1"],
                           capture_output=True, text=True, timeout=20)
        check(r.returncode == 2, "serve --config DIR exits 2 (rc %d, stdout %r)" % (r.returncode, r.stdout))
        check(cfg_dir in r.stderr and "directory" in r.stderr, "the error names the path: %r" % r.stderr)
        check("listening" not in r.stdout, "nothing was served")


def test_second_server_on_same_data_refused():
    with Hub(ARGS.ctihub, "lock") as hub:
        hub.setup()
        hub.start()
        r = subprocess.run([ARGS.ctihub, "serve", "--data", hub.data, "--listen", "127.0.0.1:0",
                            "--threads", "1"], capture_output=True, text=True, timeout=20)
        check(r.returncode == 2, "second serve exits 2 (rc %d, stdout %r)" % (r.returncode, r.stdout))
        check(str(hub.proc.pid) in r.stderr and "in use" in r.stderr,
              "the error names the first server's pid %d: %r" % (hub.proc.pid, r.stderr))
        check(hub.get("/taxii2/").status == 200, "the first server keeps serving")
        check(hub.stop() == 0, "first server exits 0")
        # Once the first has stopped, the directory can be served again.
        hub.start()
        check(hub.get("/taxii2/").status == 200, "served again after the first stopped")


def test_duplicate_collection_alias_refused():
    with Hub(ARGS.ctihub, "alias") as hub:
        hub.setup()  # has a collection with alias "shared" on api1
        for root in ["api1", "api2"]:
            r = subprocess.run([ARGS.ctihub, "collection", "add", "--root", root, "--title", "Again",
                                "--alias", "shared", "--data", hub.data], capture_output=True, text=True,
                               timeout=60)
            check(r.returncode == 2 and "collection_alias_taken" in r.stderr,
                  "duplicate alias refused on %s: rc %d %r" % (root, r.returncode, r.stderr))
        listed = hub.cli("collection", "list")
        check(listed.count("Again") == 0, "no collection added: %r" % listed)


def policy_check(hub):
    return subprocess.run([ARGS.ctihub, "policy", "check", "--data", hub.data], capture_output=True,
                          text=True, timeout=60)


def test_broken_policy_on_running_hub_is_reported():
    with Hub(ARGS.ctihub, "reload") as hub:
        if skip_in_two_nodes(hub, "the policy file edited under a running hub",
                             "with --db the policy is in the database, where `policy import` "
                             "refuses a broken one (test_access_matrix, e2e.postgres)"):
            return
        hub.setup()
        path = os.path.join(hub.data, "policy.toml")
        with open(path, "w") as f:
            f.write('[defaults]\nunmarked_tlp = "green"\n')
        r = policy_check(hub)
        check(r.returncode == 0 and r.stdout.startswith("ok:"), "policy check ok: %r %r" % (r.stdout, r.stderr))
        hub.start("--public-metrics", "true")
        st = hub.post_and_wait("shared", [indicator(1)])
        check(st["success_count"] == 1, "an object is stored")
        check(hub.get("/healthz", user=None).body == b"ok\n", "healthy at first")
        with open(path, "w") as f:
            f.write('[defaults]\nunmarked_tlp = "green"\n[[organisation]\n')
        r = hub.get("/healthz", user=None)
        check(r.status == 200 and r.body == b"degraded: policy_reload_failed\n",
              "/healthz says degraded: %d %r" % (r.status, r.body))
        m = hub.get("/metrics", user=None).body.decode()
        check('ctihub_degraded{problem="policy_reload_failed"} 1' in m, "/metrics shows the problem")
        # The last good policy still serves (acme reads its own collection).
        check(hub.get(hub.objects_path("shared")).status == 200, "reads go on under the last good policy")
        logged = ""
        for _ in range(50):  # the log line is written by the request's thread; bounded wait
            logged = hub.tail_stderr(8000)
            if "policy.toml:3:" in logged:
                break
            time.sleep(0.1)
        check("sharing policy reload failed" in logged and "policy.toml:3:" in logged,
              "the error is logged with FILE:LINE: %r" % logged[-500:])
        r = policy_check(hub)
        check(r.returncode == 1 and "policy.toml:3:" in r.stderr, "policy check names the error: %r" % r.stderr)
        with open(path, "w") as f:
            f.write('[defaults]\nunmarked_tlp = "green"\n# fixed\n')
        check(hub.get("/healthz", user=None).body == b"ok\n", "healthy again once fixed")
        check(policy_check(hub).returncode == 0, "policy check ok again")


if __name__ == "__main__":
    sys.exit(run_tests([test_weak_passwords_refused, test_config_directory_refused,
                        test_second_server_on_same_data_refused,
                        test_broken_policy_on_running_hub_is_reported,
                        test_duplicate_collection_alias_refused]))
