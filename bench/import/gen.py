#!/usr/bin/env python3
"""Inputs for bench/import/run.sh (issue 13 import speeds), deterministic:
  gen.py misp N OUT.json   N MISP attributes (ip-dst, domain, url, sha256,
                           filename|md5 in turn; every other one to_ids; a
                           sighting on every hundredth) in a list of events of
                           1,000 attributes each (tlp:green), as a feed ships them
  gen.py text MB OUT.txt   a threat report's prose of about MB megabytes, every
                           third line with one defanged indicator in it
  gen.py list N OUT.txt    a vendor feed: N indicators, one per line"""
import hashlib
import json
import sys

WORDS = ("the actor used spear-phishing e-mails with malicious macros to deliver a loader "
         "which contacted its command server over HTTPS (port 443), then dropped payload. "
         "In 2024 campaign targets were banks;").split()


def misp(n, out):
    attrs = []
    for i in range(n):
        k = i % 5
        if k == 0:
            t, v = "ip-dst", "10.%d.%d.%d" % (i // 65536 % 256, i // 256 % 256, i % 256)
        elif k == 1:
            t, v = "domain", "host%d.example.com" % i
        elif k == 2:
            t, v = "url", "http://u%d.example.org/p?id=%d" % (i, i)
        elif k == 3:
            t, v = "sha256", hashlib.sha256(b"%d" % i).hexdigest()
        else:
            t, v = "filename|md5", "drop%d.exe|%s" % (i, hashlib.md5(b"%d" % i).hexdigest())
        a = {"uuid": "%08x-0a8c-4b7e-9a3e-%012x" % (i, i), "type": t, "value": v,
             "to_ids": i % 2 == 0, "timestamp": "1700000000"}
        if i % 100 == 0:
            a["Sighting"] = [{"type": "0", "date_sighting": "1700000200"}]
        attrs.append(a)
    events = []
    for k in range(0, n, 1000):
        events.append({"Event": {"uuid": "5e1b5d4c-0a8c-4b7e-9a3e-%012x" % (k // 1000),
                                 "info": "bench event %d" % (k // 1000),
                                 "timestamp": "1700000000",
                                 "Tag": [{"name": "tlp:green"}, {"name": "bench"}],
                                 "Attribute": attrs[k:k + 1000]}})
    with open(out, "w") as f:
        json.dump(events, f, separators=(",", ":"))


def text(mb, out):
    target = int(mb * 1024 * 1024)
    size = 0
    with open(out, "w") as f:
        line = 0
        while size < target:
            words = " ".join(WORDS[(line * 7 + w * 3) % len(WORDS)] for w in range(14))
            k = line % 18
            ioc = ""
            if k == 0:
                ioc = " c2-%d.bad-host[.]com" % line
            elif k == 3:
                ioc = " 198.51.%d[.]%d" % (line // 256 % 256, line % 256)
            elif k == 6:
                ioc = " hxxps://drop%d[.]example[.]net/gate.php?id=%d" % (line, line)
            elif k == 9:
                ioc = " " + hashlib.sha256(b"%d" % line).hexdigest()
            elif k == 12:
                ioc = " billing%d[@]invoice-mail[.]org" % line
            elif k == 15:
                ioc = " CVE-2024-%d" % (1000 + line % 9000)
            s = words + ioc + ".\n"
            f.write(s)
            size += len(s)
            line += 1


def ioc_list(n, out):
    with open(out, "w") as f:
        for i in range(n):
            k = i % 4
            if k == 0:
                f.write("%d.%d.%d.%d\n" % (10 + i // 16777216 % 200, i // 65536 % 256,
                                           i // 256 % 256, i % 256))
            elif k == 1:
                f.write("host%d.bench-%d.com\n" % (i, i % 997))
            elif k == 2:
                f.write("http://u%d.bench.org/p/%d\n" % (i % 5003, i))
            else:
                f.write(hashlib.sha256(b"%d" % i).hexdigest() + "\n")


def main():
    kind, size, out = sys.argv[1], sys.argv[2], sys.argv[3]
    if kind == "misp":
        misp(int(size), out)
    elif kind == "text":
        text(float(size), out)
    elif kind == "list":
        ioc_list(int(size), out)
    else:
        sys.exit("unknown kind " + kind)


if __name__ == "__main__":
    main()
