#!/usr/bin/env python3
"""TAXII 2.1 load driver for bench/taxii/run.sh (stdlib only, bounded loops)."""
import argparse, http.client, json, os, re, statistics, subprocess, time, uuid

MT = "application/taxii+json;version=2.1"


def conn(port):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=120)


def indicator(i):
    ts = "2026-01-01T00:00:00.000Z"
    return {
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--" + str(uuid.UUID(int=(0x1234 << 96) | (4 << 76) | (0x8 << 60) | i)),
        "created": ts, "modified": ts, "name": f"bench indicator {i}",
        "indicator_types": ["malicious-activity"], "pattern_type": "stix",
        "pattern": f"[ipv4-addr:value = '10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}']",
        "valid_from": ts,
    }


def envelope(start, n):
    return json.dumps({"objects": [indicator(i) for i in range(start, start + n)]}).encode()


def ingest(port, hdr, base, total, batch=1000, connections=1):
    """POSTs every envelope (over `connections` keep-alive connections at once),
    then polls every status until complete."""
    import threading
    c = conn(port)
    statuses = []
    bodies = [envelope(s, min(batch, total - s)) for s in range(0, total, batch)]  # prebuilt: time the server, not Python
    errors = []

    def post(share):
        pc = conn(port)
        for body in share:
            pc.request("POST", base + "objects/", body=body, headers={**hdr, "Content-Type": MT})
            r = pc.getresponse(); data = r.read()
            if r.status != 202:
                errors.append(f"POST failed {r.status}: {data[:300]}")
                return
            statuses.append(json.loads(data)["id"])  # list.append is atomic under the GIL

    t0 = time.perf_counter()
    threads = [threading.Thread(target=post, args=(bodies[i::connections],)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(errors[0])
    pending = set(statuses)
    deadline = time.time() + 1800
    root = base.split("collections/")[0]
    while pending and time.time() < deadline:
        for sid in list(pending):
            c.request("GET", f"{root}status/{sid}/", headers=hdr)
            r = c.getresponse(); st = json.loads(r.read())
            if st.get("status") == "complete":
                pending.discard(sid)
        if pending:
            time.sleep(0.05)
    t1 = time.perf_counter()
    if pending:
        raise SystemExit(f"{len(pending)} statuses not complete")
    return total / (t1 - t0), t1 - t0


def page_all(port, hdr, base, limit=1000):
    c = conn(port)
    seen = 0; nxt = None; pages = 0
    t0 = time.perf_counter()
    while pages < 100000:
        q = f"?limit={limit}" + (f"&next={nxt}" if nxt else "")
        c.request("GET", base + "objects/" + q, headers=hdr)
        r = c.getresponse(); data = r.read()
        if r.status != 200:
            raise SystemExit(f"GET failed {r.status}: {data[:300]}")
        seen += data.count(b'"type":"indicator"')
        pages += 1
        m = re.search(rb'"next":"([^"]+)"', data)
        if not m or b'"more":true' not in data:
            break
        nxt = m.group(1).decode()
    t1 = time.perf_counter()
    return seen, seen / (t1 - t0)


def latencies(port, hdr, paths, n=200):
    c = conn(port); out = []
    for i in range(n):
        t0 = time.perf_counter()
        c.request("GET", paths[i % len(paths)], headers=hdr)
        r = c.getresponse(); r.read()
        out.append((time.perf_counter() - t0) * 1000)
        if r.status not in (200, 404):
            raise SystemExit(f"GET {paths[i % len(paths)]} -> {r.status}")
    out.sort()
    return statistics.median(out), out[int(len(out) * 0.99) - 1]


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return -1


def cpu_seconds(pid):
    """Per thread of the server: {tid: (name, user+system CPU seconds)}."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[tid] = (name, (int(fields[11]) + int(fields[12])) / tick)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--collection", required=True)
    ap.add_argument("--objects", type=int, default=1000000)
    ap.add_argument("--server-pid", type=int, required=True)
    ap.add_argument("--post-connections", type=int, default=1,
                    help="connections POSTing envelopes at once during ingest")
    ap.add_argument("--ingest-only", action="store_true", help="stop after the ingest figure")
    a = ap.parse_args()
    hdr = {"Accept": MT, "Authorization": "Bearer " + a.token}
    base = f"/{a.root}/collections/{a.collection}/"

    cpu0 = cpu_seconds(a.server_pid)
    rate, secs = ingest(a.port, hdr, base, a.objects, connections=a.post_connections)
    print(f"ingest: {a.objects} objects in {secs:.1f}s = {rate:,.0f} objects/s (durable, envelopes of 1000)")
    cpu1 = cpu_seconds(a.server_pid)
    # Server CPU per object (less sensitive to other load on the machine than
    # the rate), and the busiest thread (the store's writer when it bounds ingest).
    used = {tid: cpu1[tid][1] - cpu0.get(tid, ("", 0.0))[1] for tid in cpu1}
    busiest = max(used, key=used.get)
    print(f"ingest server CPU: {sum(used.values()) * 1e6 / a.objects:.1f} us/object, "
          f"busiest thread {cpu1[busiest][0]!r} {used[busiest] * 1e6 / a.objects:.1f} us/object")
    if a.ingest_only:
        return
    seen, prate = page_all(a.port, hdr, base)
    print(f"paging: {seen} objects at {prate:,.0f} objects/s (limit 1000)")
    ids = [indicator(i)["id"] for i in range(0, a.objects, max(1, a.objects // 500))]
    med, p99 = latencies(a.port, hdr, [base + f"objects/?match[id]={i}" for i in ids])
    print(f"GET match[id]: median {med:.2f} ms, p99 {p99:.2f} ms")
    med, p99 = latencies(a.port, hdr, [base + "objects/?match[type]=indicator&limit=100"])
    print(f"GET match[type] limit 100: median {med:.2f} ms, p99 {p99:.2f} ms")
    med, p99 = latencies(a.port, hdr, [base + "objects/?added_after=2000-01-01T00:00:00Z&limit=100"])
    print(f"GET added_after limit 100: median {med:.2f} ms, p99 {p99:.2f} ms")
    print(f"server RSS after load: {rss_mb(a.server_pid):.0f} MB")
    if subprocess.run(["which", "wrk"], capture_output=True).returncode == 0:
        url = f"http://127.0.0.1:{a.port}{base}objects/?match[id]={ids[len(ids) // 2]}"
        out = subprocess.run(["wrk", "-t2", "-c64", "-d15s", "--latency", "-H", f"Accept: {MT}",
                              "-H", f"Authorization: Bearer {a.token}", url],
                             capture_output=True, text=True, timeout=60).stdout
        rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
        p99 = re.search(r"99%\s+([\d.]+\w+)", out)
        print(f"wrk 64 connections, match[id]: {rps.group(1) if rps else '?'} req/s, p99 {p99.group(1) if p99 else '?'}")
        print(f"server RSS after wrk: {rss_mb(a.server_pid):.0f} MB")


if __name__ == "__main__":
    main()
