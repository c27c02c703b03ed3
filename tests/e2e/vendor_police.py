"""The documented example docs/examples/vendor-police as a real hub, for the
e2e tests of `policy explain` and `agreement add --dry-run`.

A hub with the example's policy.toml, its five organisations, one collection
(alias vendor-feed) and a small fixture of objects with fixed ids, imported
through `ctihub import`. The example's agreements run from 2026-01-01 to
2027-01-01: callers decide `--at AT` (inside that window), never "now".
"""
import json
import os
import shutil
import subprocess

AT = "2026-06-01T00:00:00Z"
AT_PRINTED = "2026-06-01T00:00:00.000Z"  # as the hub prints AT
EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "examples",
                       "vendor-police", "policy.toml")
VENDOR = "identity--de2243c4-7020-40df-9b10-2fa9d30fafa9"
IPO = "identity--9a610f91-af26-418b-b1a2-56cf3014944f"
TLP = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
RECIPIENTS_EXT = "extension-definition--7f4a4592-aab5-4a44-b790-83343a778ab2"


def oid(kind, n):
    return "%s--00000000-0000-4000-8000-%012d" % (kind, n)


def indicator(n, tlp, extra=None, modified="2026-03-01T00:00:00.000Z"):
    o = {"type": "indicator", "spec_version": "2.1", "id": oid("indicator", n),
         "created": "2026-03-01T00:00:00.000Z", "modified": modified, "name": "ind %d" % n,
         "pattern": "[ipv4-addr:value = '203.0.113.%d']" % n, "pattern_type": "stix",
         "valid_from": "2026-03-01T00:00:00Z", "object_marking_refs": [TLP[tlp]]}
    o.update(extra or {})
    return o


def sdo(kind, n, tlp, body):
    o = {"type": kind, "spec_version": "2.1", "id": oid(kind, n),
         "created": "2026-03-01T00:00:00.000Z", "modified": "2026-03-01T00:00:00.000Z",
         "object_marking_refs": [TLP[tlp]]}
    o.update(body)
    return o


def report(n, tlp, extra=None):
    body = {"name": "report %d" % n, "published": "2026-03-01T00:00:00Z",
            "object_refs": [oid("indicator", 1)]}
    body.update(extra or {})
    return sdo("report", n, tlp, body)


# The vendor's objects (imported with --org secvendor).
PERSONAL = oid("indicator", 1)   # AMBER, with x_personal_data
AMBER_2 = oid("indicator", 2)    # AMBER
AMBER_3 = oid("indicator", 3)    # AMBER (two versions)
GREEN_4 = oid("indicator", 4)    # GREEN
GREEN_5 = oid("indicator", 5)    # GREEN
STRICT_6 = oid("indicator", 6)   # AMBER+STRICT
REPORT_1 = oid("report", 1)      # AMBER
RED_REPORT = oid("report", 2)    # RED, recipient_orgs = [ipo]
MALWARE = oid("malware", 1)      # AMBER
EMAIL = None  # AMBER personal data; its deterministic id is set by build()
# The IPO's objects (imported with --org ipo).
IPO_REPORT = oid("report", 3)    # AMBER+STRICT
IPO_MALWARE = oid("malware", 2)  # AMBER

VENDOR_OBJECTS = [
    indicator(1, "amber", {"x_personal_data": {"registrant": "J. Doe"}}),
    indicator(2, "amber"),
    indicator(3, "amber"),
    indicator(3, "amber", modified="2026-04-01T00:00:00.000Z"),
    indicator(4, "green"),
    indicator(5, "green"),
    indicator(6, "amber+strict"),
    report(1, "amber"),
    report(2, "red", {"extensions": {RECIPIENTS_EXT: {"extension_type": "property-extension",
                                                      "recipient_orgs": [IPO]}}}),
    sdo("malware", 1, "amber", {"name": "m1", "is_family": True}),
    {"type": "email-addr", "spec_version": "2.1", "value": "j.doe@example.org",
     "object_marking_refs": [TLP["amber"]]},
]
IPO_OBJECTS = [
    report(3, "amber+strict"),
    sdo("malware", 2, "amber", {"name": "m2", "is_family": True}),
]


def run(ctihub, data, *args, stdin=None):
    """(returncode, stdout, stderr) of `ctihub ARGS --data DATA`."""
    r = subprocess.run([ctihub] + list(args) + ["--data", data], input=stdin,
                       capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout, r.stderr


def build(hub):
    """Sets up `hub` (a hub.Hub, not started) as the example; returns the collection id."""
    ctihub, data = hub.ctihub, hub.data

    def cli(*args, stdin=None):
        rc, out, err = run(ctihub, data, *args, stdin=stdin)
        if rc != 0:
            raise RuntimeError("ctihub %s failed (%d): %s" % (" ".join(args), rc, err))
        return out.strip()

    global EMAIL
    email = VENDOR_OBJECTS[-1]
    r = subprocess.run([ctihub, "stix", "id"], input=json.dumps(email), capture_output=True,
                       text=True, timeout=60)
    EMAIL = json.loads(r.stdout.splitlines()[0])["id"]
    email["id"] = EMAIL
    cli("init")
    shutil.copy(EXAMPLE, os.path.join(data, "policy.toml"))
    hub._sync_policy_files()  # two-node mode: into the database (commands reach it by CTIHUB_DB)
    for org in ["secvendor", "ipo", "unit-fr", "unit-de", "unit-es"]:
        cli("org", "add", org)
    cli("api-root", "add", "api1", "--title", "API one")
    col = cli("collection", "add", "--root", "api1", "--title", "Vendor feed", "--alias",
              "vendor-feed", "--readers", "secvendor,ipo,unit-fr,unit-de", "--writers", "secvendor")
    for user, org in [("ipo-analyst", "ipo"), ("fr-analyst", "unit-fr"),
                      ("es-analyst", "unit-es")]:
        cli("user", "add", user, "--org", org, "--role", "reader", "--password-stdin",
            stdin="correct horse battery staple %s\n" % user)
    for org, objects in [("secvendor", VENDOR_OBJECTS), ("ipo", IPO_OBJECTS)]:
        path = os.path.join(hub.dir, org + ".json")
        with open(path, "w") as f:
            json.dump({"type": "bundle", "id": "bundle--" + oid("x", 0)[3:], "objects": objects}, f)
        cli("import", "--collection", "vendor-feed", "--org", org, path)
    return col
