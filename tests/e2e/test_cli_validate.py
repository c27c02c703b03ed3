#!/usr/bin/env python3
"""End to end: `ctihub validate` output. Positions are FILE:LINE:COLUMN, --json
lines carry the file name, a bundle's own issues (its id, its members,
repeated versions) are reported on a line of their own with the bundle's id,
and an unexpected byte is printed in hex. Runs the binary on small files in a
temp dir; no server."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub import check, parse_args, run_tests  # noqa: E402

ARGS = parse_args()
TMP = tempfile.mkdtemp(prefix="ctihub-validate-")

IDENTITY = {
    "type": "identity", "spec_version": "2.1", "id": "identity--311b2d2d-f010-4473-83ec-1edf84858f4c",
    "created": "2016-08-22T14:09:00.123Z", "modified": "2016-08-22T14:09:00.123Z",
    "name": "mitre.org", "identity_class": "organization",
}
BUNDLE_ID = "bundle--44af6c39-c09b-49c5-9de2-394224b04982"


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "wb") as f:
        f.write(text.encode() if isinstance(text, str) else text)
    return path


def validate(*args):
    r = subprocess.run([ARGS.ctihub, "validate"] + list(args), capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def test_positions_are_line_and_column():
    bad = dict(IDENTITY, identity_class=3)
    text = '{"type": "bundle", "id": "%s", "objects": [\n  %s,\n  %s\n]}\n' % (
        BUNDLE_ID, json.dumps(IDENTITY), json.dumps(bad))
    path = write("positions.json", text)
    rc, out, err = validate(path)
    check(rc == 1, "an invalid object exits 1 (%d): %s" % (rc, err))
    check(("%s:3:3: %s: INVALID" % (path, IDENTITY["id"])) in out, "object line is FILE:LINE:COLUMN: %r" % out)


def test_json_lines_carry_the_file():
    path = write("one.json", json.dumps(dict(IDENTITY, identity_class=3)))
    rc, out, err = validate("--json", path)
    lines = [json.loads(l) for l in out.splitlines() if l.strip()]
    check(len(lines) == 1, "one line per object: %r" % out)
    if lines:
        check(lines[0].get("file") == path, "the line names its file: %r" % lines[0])
        check(lines[0].get("line") == 1 and lines[0].get("column") == 1, "and its position: %r" % lines[0])


def test_bundle_issues_on_a_line_of_their_own():
    bundle = {"type": "bundle", "id": BUNDLE_ID, "x_acme": 1, "objects": [IDENTITY]}
    path = write("custom_bundle.json", json.dumps(bundle))
    rc, out, err = validate(path)
    check(rc == 0, "a bundle property is a warning: exit 0 (%d): %s" % (rc, err))
    check(BUNDLE_ID in out and "x_acme" in out, "the bundle gets a line with its id: %r" % out)
    rc, out, err = validate("--strict", path)
    check(rc == 1, "and is invalid under --strict (%d)" % rc)
    rc, out, err = validate("--json", path)
    lines = [json.loads(l) for l in out.splitlines() if l.strip()]
    bundles = [l for l in lines if l.get("type") == "bundle"]
    check(len(bundles) == 1 and bundles[0].get("id") == BUNDLE_ID and bundles[0].get("warnings"),
          "--json has the bundle's line: %r" % lines)


def test_bundle_without_id_is_invalid():
    path = write("no_id.json", json.dumps({"type": "bundle", "objects": [IDENTITY]}))
    rc, out, err = validate(path)
    check(rc == 1, "a bundle without id exits 1 (%d): %r" % (rc, out))
    check("'id' is missing" in out, "and says so: %r" % out)


def test_duplicate_versions_warned():
    bundle = {"type": "bundle", "id": BUNDLE_ID, "objects": [IDENTITY, IDENTITY]}
    path = write("dup.json", json.dumps(bundle))
    rc, out, err = validate(path)
    check(rc == 0, "same id and modified twice is a warning (%d): %r" % (rc, out))
    check(IDENTITY["id"] in out and "same modified" in out, "named on the bundle's line: %r" % out)
    rc, out, err = validate("--strict", path)
    check(rc == 1, "invalid under --strict (%d)" % rc)


def test_syntax_error_position_and_byte():
    path = write("ctrl.json", b'{"type": "identity",\n "name": \x1f}')
    rc, out, err = validate(path)
    check(rc == 2, "not JSON exits 2 (%d)" % rc)
    check(("%s:2:10:" % path) in err, "the error is at FILE:LINE:COLUMN: %r" % err)
    check("'\\x1f'" in err, "and prints the byte in hex: %r" % err)


if __name__ == "__main__":
    sys.exit(run_tests([
        test_positions_are_line_and_column,
        test_json_lines_carry_the_file,
        test_bundle_issues_on_a_line_of_their_own,
        test_bundle_without_id_is_invalid,
        test_duplicate_versions_warned,
        test_syntax_error_position_and_byte,
    ]))
