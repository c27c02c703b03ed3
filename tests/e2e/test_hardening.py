#!/usr/bin/env python3
"""End to end: weak defaults refused (issue 12, "Hardening the trust core").
Short and common passwords are refused by `user add`; `serve --config DIR`
fails instead of starting with defaults; a second `serve` on a data directory
already served fails and names the first server's pid, which keeps serving."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub import Hub, check, parse_args, run_tests  # noqa: E402

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


if __name__ == "__main__":
    sys.exit(run_tests([test_weak_passwords_refused, test_config_directory_refused,
                        test_second_server_on_same_data_refused]))
