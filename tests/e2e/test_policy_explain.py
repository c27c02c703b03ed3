#!/usr/bin/env python3
"""End to end: `ctihub policy explain` on the documented example
(docs/examples/vendor-police, built by vendor_police.py).

For an organisation and for a user: the decision (served / served redacted /
withheld), the grant that decided, the redactions, and for every agreement why
it did or did not apply, in readable text and stable --json; --collection,
--all-versions and --at (the example's agreements expire 2027-01-01: every
call passes --at); bad arguments exit 2 with a reason.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub import Hub, check, parse_args, run_tests  # noqa: E402
import vendor_police as vp  # noqa: E402

ARGS = parse_args()
HUB = None


def explain(*args):
    rc, out, err = vp.run(ARGS.ctihub, HUB.data, "policy", "explain", "--at", vp.AT, *args)
    return rc, out, err


def explain_json(*args):
    rc, out, err = explain("--json", *args)
    check(rc == 0, "explain %r exits 0: %d %s" % (args, rc, err))
    try:
        return json.loads(out)
    except ValueError:
        check(False, "explain --json prints one JSON object: %r" % out)
        return {"results": []}


def notes(result):
    return {a["id"]: (a["reason"], a["detail"]) for a in result["agreements"]}


def test_redacted_for_the_ipo():
    x = explain_json("--org", "ipo", "--object", vp.PERSONAL)
    check(x["object"] == vp.PERSONAL and x["reader"] == {"org": "ipo", "user": None}, "header: %r" % x)
    check(x["at"] == vp.AT_PRINTED and len(x["results"]) == 1, "one result at AT: %r" % x)
    r = x["results"][0]
    check(r["collection_alias"] == "vendor-feed" and r["type"] == "indicator", "facts: %r" % r)
    check(r["producer"] == vp.VENDOR and r["producer_org"] == "secvendor", "producer: %r" % r)
    check(r["tlp"] == "amber" and r["tlp_from"] == "object" and r["pap"] == "clear", "levels: %r" % r)
    check(r["decision"] == "served-redacted", "served redacted: %r" % r["decision"])
    check(r["decided_by"] == "agreement:secvendor-to-ipo", "decided by: %r" % r["decided_by"])
    check(r["redactions"] == ["x_personal_data"], "redactions: %r" % r["redactions"])
    n = notes(r)
    check(n["secvendor-to-ipo"] == ("decided", "agreement:secvendor-to-ipo decided: served without "
                                               "x_personal_data"), "decided note: %r" % (n,))
    check(n["ipo-to-units"] == ("wrong-recipient", "its recipient is community:national-units, "
                                                   "not org:ipo"), "ipo-to-units: %r" % (n,))
    check(n["units-to-ipo"][0] == "producer-not-covered", "units-to-ipo: %r" % (n,))
    check(n["ipo-to-secvendor-feedback"][0] == "wrong-recipient", "feedback: %r" % (n,))
    check(list(n) == ["secvendor-to-ipo", "ipo-to-units", "units-to-ipo",
                      "ipo-to-secvendor-feedback"], "every agreement, in policy order: %r" % list(n))
    grants = [(g["grant"], g["outcome"]) for g in r["grants"]]
    check(grants == [("agreement:secvendor-to-ipo", "decided"), ("public", "tlp-above-ceiling")],
          "grants: %r" % grants)


def test_withheld_from_a_unit():
    r = explain_json("--org", "unit-fr", "--object", vp.PERSONAL)["results"][0]
    check(r["decision"] == "withheld" and r["decided_by"] == "no-grant", "withheld: %r" % r)
    check(r["redactions"] == [], "no redactions: %r" % r["redactions"])
    n = notes(r)
    check(n["secvendor-to-ipo"] == ("tlp-above-ceiling", "reshare:secvendor-to-ipo>ipo-to-units "
                                    "covers up to TLP:GREEN, the object is TLP:AMBER"),
          "chain capped at GREEN: %r" % (n,))
    check(n["ipo-to-units"] == n["secvendor-to-ipo"], "both hops: %r" % (n,))
    check(n["units-to-ipo"] == ("wrong-recipient", "its recipient is org:ipo, not org:unit-fr"),
          "units-to-ipo: %r" % (n,))


def test_type_not_in_agreement():
    # README row 4: the e-mail address is withheld from the IPO because its
    # type is not in the agreement (not because of withhold_sco_types).
    r = explain_json("--org", "ipo", "--object", vp.EMAIL)["results"][0]
    check(r["decision"] == "withheld" and r["decided_by"] == "type-not-in-agreement", "%r" % r)
    check(notes(r)["secvendor-to-ipo"] == (
        "type-not-in-agreement", "agreement:secvendor-to-ipo does not cover objects of type "
        "email-addr"), "note: %r" % (notes(r),))
    r = explain_json("--org", "secvendor", "--object", vp.EMAIL)["results"][0]
    check(r["decision"] == "served" and r["decided_by"] == "own", "own: %r" % r)
    check(all(reason == "own-object" for reason, _ in notes(r).values()), "own: %r" % (notes(r),))


def test_named_red_report():
    r = explain_json("--org", "ipo", "--object", vp.RED_REPORT)["results"][0]
    check(r["decision"] == "served" and r["decided_by"] == "named", "named: %r" % r)
    # RED is above every agreement's ceiling: only the named grant can serve it.
    check(notes(r)["secvendor-to-ipo"] == ("tlp-above-ceiling", "agreement:secvendor-to-ipo "
                                           "covers up to TLP:AMBER, the object is TLP:RED"),
          "%r" % (notes(r),))
    r = explain_json("--org", "unit-fr", "--object", vp.RED_REPORT)["results"][0]
    check(r["decision"] == "withheld" and r["decided_by"] == "no-grant", "not named: %r" % r)


def test_user_and_access_list():
    x = explain_json("--user", "fr-analyst", "--object", vp.GREEN_4)
    r = x["results"][0]
    check(x["reader"] == {"org": "unit-fr", "user": "fr-analyst"}, "reader: %r" % x["reader"])
    check(r["collection_readable"] and r["decision"] == "served", "served: %r" % r)
    check(r["decided_by"] == "reshare:secvendor-to-ipo>ipo-to-units", "chain: %r" % r["decided_by"])
    # unit-es is not on the collection's access list: withheld before the policy.
    r = explain_json("--user", "es-analyst", "--object", vp.GREEN_4)["results"][0]
    check(not r["collection_readable"] and r["decision"] == "withheld", "acl: %r" % r)
    check(r["decided_by"] == "collection-acl", "decided by the access list: %r" % r["decided_by"])
    check(r["policy_decision"] == "served" and
          r["policy_decided_by"] == "reshare:secvendor-to-ipo>ipo-to-units", "policy alone: %r" % r)


def test_versions_and_time():
    x = explain_json("--org", "ipo", "--object", vp.AMBER_3)
    check([r["version"] for r in x["results"]] == ["2026-04-01T00:00:00.000Z"], "latest: %r" % x)
    x = explain_json("--org", "ipo", "--object", vp.AMBER_3, "--all-versions")
    check(sorted(r["version"] for r in x["results"]) == ["2026-03-01T00:00:00.000Z",
                                                        "2026-04-01T00:00:00.000Z"], "all: %r" % x)
    rc, out, err = vp.run(ARGS.ctihub, HUB.data, "policy", "explain", "--json", "--org", "ipo",
                          "--object", vp.GREEN_4, "--at", "2027-01-01T00:00:00Z")
    r = json.loads(out)["results"][0]
    check(r["decision"] == "withheld", "expired: %r" % r)
    check(notes(r)["secvendor-to-ipo"] == ("expired", "secvendor-to-ipo expired at "
                                           "2027-01-01T00:00:00.000Z"), "%r" % (notes(r),))
    x = explain_json("--org", "ipo", "--object", vp.GREEN_4, "--collection", "vendor-feed")
    check(len(x["results"]) == 1, "--collection by alias: %r" % x)


def test_text_output():
    rc, out, err = explain("--org", "ipo", "--object", vp.PERSONAL)
    check(rc == 0, "text exits 0: %s" % err)
    for line in ["decision    served-redacted (agreement:secvendor-to-ipo)",
                 "redactions  x_personal_data",
                 "reader      org:ipo",
                 "facts       indicator, producer org:secvendor, TLP:AMBER (marked), PAP:CLEAR"]:
        check(line in out, "text has %r:\n%s" % (line, out))
    check("secvendor-to-ipo" in out and "wrong-recipient" in out, "agreements listed:\n%s" % out)


def test_bad_arguments():
    for args, want in [(["--org", "nobody", "--object", vp.PERSONAL], "no organisation 'nobody'"),
                       (["--user", "ghost", "--object", vp.PERSONAL], "no user 'ghost'"),
                       (["--object", vp.PERSONAL], "exactly one of --org and --user"),
                       (["--org", "ipo", "--user", "fr-analyst", "--object", vp.PERSONAL],
                        "exactly one of --org and --user"),
                       (["--org", "ipo", "--object", "indicator--" + "9" * 8 + "-9999-4999-8999-" +
                         "9" * 12], "no object"),
                       (["--org", "ipo", "--object", vp.PERSONAL, "--collection", "nope"],
                        "no collection 'nope'")]:
        rc, out, err = explain(*args)
        check(rc == 2 and want in err, "%r: exit 2 with %r: %d %r" % (args, want, rc, err))
    rc, out, err = vp.run(ARGS.ctihub, HUB.data, "policy", "explain", "--org", "ipo", "--object",
                          vp.PERSONAL, "--at", "yesterday")
    check(rc == 2 and "--at" in err, "bad --at: %d %r" % (rc, err))


def main():
    global HUB
    with Hub(ARGS.ctihub, name="explain") as hub:
        HUB = hub
        vp.build(hub)
        return run_tests([test_redacted_for_the_ipo, test_withheld_from_a_unit,
                          test_type_not_in_agreement, test_named_red_report,
                          test_user_and_access_list, test_versions_and_time, test_text_output,
                          test_bad_arguments])


if __name__ == "__main__":
    sys.exit(main())
