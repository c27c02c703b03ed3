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


def ingest(ports, hdr, base, total, batch=1000, connections=1):
    """POSTs every envelope (over `connections` keep-alive connections at once,
    connection i to node i % len(ports)), then polls every status until
    complete, asking the nodes in turn (a status is visible from every node)."""
    import threading
    cs = [conn(p) for p in ports]
    statuses = []
    bodies = [envelope(s, min(batch, total - s)) for s in range(0, total, batch)]  # prebuilt: time the server, not Python
    errors = []

    def post(share, port):
        pc = conn(port)
        for body in share:
            pc.request("POST", base + "objects/", body=body, headers={**hdr, "Content-Type": MT})
            r = pc.getresponse(); data = r.read()
            if r.status != 202:
                errors.append(f"POST failed {r.status}: {data[:300]}")
                return
            statuses.append(json.loads(data)["id"])  # list.append is atomic under the GIL

    t0 = time.perf_counter()
    threads = [threading.Thread(target=post, args=(bodies[i::connections], ports[i % len(ports)]))
               for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(errors[0])
    posted = time.perf_counter()
    pending = set(statuses)
    deadline = time.time() + 1800
    root = base.split("collections/")[0]
    polls = 0
    while pending and time.time() < deadline:
        for sid in list(pending):
            c = cs[polls % len(cs)]; polls += 1
            c.request("GET", f"{root}status/{sid}/", headers=hdr)
            r = c.getresponse(); st = json.loads(r.read())
            if st.get("status") == "complete":
                pending.discard(sid)
        if pending:
            time.sleep(0.05)
    t1 = time.perf_counter()
    if pending:
        raise SystemExit(f"{len(pending)} statuses not complete")
    return total / (t1 - t0), t1 - t0, posted - t0


def page_all(ports, hdr, base, limit=1000):
    """Pages through the collection, each page from the next node in turn."""
    cs = [conn(p) for p in ports]
    seen = 0; nxt = None; pages = 0
    t0 = time.perf_counter()
    while pages < 100000:
        q = f"?limit={limit}" + (f"&next={nxt}" if nxt else "")
        c = cs[pages % len(cs)]
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


def latencies(ports, hdr, paths, n=200):
    cs = [conn(p) for p in ports]; out = []
    for i in range(n):
        c = cs[i % len(cs)]
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


def process_cpu(pid):
    """user+system CPU seconds of a whole process (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu(postmaster):
    """CPU seconds of the postmaster and every backend it started (the
    database's share of the work, which the hub's own CPU leaves out)."""
    total = process_cpu(postmaster)
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if stat[stat.rindex(")") + 2:].split()[1] == str(postmaster):
            total += process_cpu(pid)
    return total


def wrk_all(ports, hdr_token, url_path, connections=64, seconds=15):
    """wrk on every node at once (connections split between them): total req/s
    and the worst node's p99."""
    procs = [subprocess.Popen(["wrk", "-t2", f"-c{connections // len(ports)}", f"-d{seconds}s", "--latency",
                               "-H", f"Accept: {MT}", "-H", f"Authorization: Bearer {hdr_token}",
                               f"http://127.0.0.1:{p}{url_path}"],
                              stdout=subprocess.PIPE, text=True) for p in ports]
    total, p99s = 0.0, []
    for pr in procs:
        out = pr.communicate(timeout=seconds + 45)[0]
        rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
        total += float(rps.group(1)) if rps else 0.0
        p99 = re.search(r"99%\s+([\d.]+\w+)", out)
        p99s.append(p99.group(1) if p99 else "?")
    return total, p99s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, action="append", required=True,
                    help="a node's port; repeat for several nodes over one database")
    ap.add_argument("--token", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--collection", required=True)
    ap.add_argument("--objects", type=int, default=1000000)
    ap.add_argument("--server-pid", type=int, action="append", required=True,
                    help="a node's pid (repeat, in --port order)")
    ap.add_argument("--postmaster-pid", type=int, default=0,
                    help="PostgreSQL's postmaster: its CPU is reported too")
    ap.add_argument("--post-connections", type=int, default=1,
                    help="connections POSTing envelopes at once during ingest")
    ap.add_argument("--ingest-only", action="store_true", help="stop after the ingest figure")
    a = ap.parse_args()
    hdr = {"Accept": MT, "Authorization": "Bearer " + a.token}
    base = f"/{a.root}/collections/{a.collection}/"
    ports = a.port
    nodes = f" over {len(ports)} nodes" if len(ports) > 1 else ""

    cpu0 = {pid: cpu_seconds(pid) for pid in a.server_pid}
    db0 = postgres_cpu(a.postmaster_pid) if a.postmaster_pid else 0.0
    rate, secs, post_secs = ingest(ports, hdr, base, a.objects, connections=a.post_connections)
    print(f"ingest: {a.objects} objects in {secs:.1f}s = {rate:,.0f} objects/s "
          f"(durable, envelopes of 1000{nodes}; the last 202 after {post_secs:.1f}s)")
    # Server CPU per object (less sensitive to other load on the machine than
    # the rate), and the busiest thread (the store's writer when it bounds ingest).
    total, busiest, busiest_name = 0.0, 0.0, ""
    for pid in a.server_pid:
        cpu1 = cpu_seconds(pid)
        used = {tid: cpu1[tid][1] - cpu0[pid].get(tid, ("", 0.0))[1] for tid in cpu1}
        total += sum(used.values())
        top = max(used, key=used.get)
        if used[top] > busiest:
            busiest, busiest_name = used[top], cpu1[top][0]
    line = (f"ingest server CPU: {total * 1e6 / a.objects:.1f} us/object, "
            f"busiest thread {busiest_name!r} {busiest * 1e6 / a.objects:.1f} us/object")
    if a.postmaster_pid:
        line += f", PostgreSQL {(postgres_cpu(a.postmaster_pid) - db0) * 1e6 / a.objects:.1f} us/object"
    print(line)
    if a.ingest_only:
        return
    seen, prate = page_all(ports, hdr, base)
    print(f"paging: {seen} objects at {prate:,.0f} objects/s (limit 1000{', nodes in turn' if nodes else ''})")
    ids = [indicator(i)["id"] for i in range(0, a.objects, max(1, a.objects // 500))]
    med, p99 = latencies(ports, hdr, [base + f"objects/?match[id]={i}" for i in ids])
    print(f"GET match[id]: median {med:.2f} ms, p99 {p99:.2f} ms")
    med, p99 = latencies(ports, hdr, [base + "objects/?match[type]=indicator&limit=100"])
    print(f"GET match[type] limit 100: median {med:.2f} ms, p99 {p99:.2f} ms")
    med, p99 = latencies(ports, hdr, [base + "objects/?added_after=2000-01-01T00:00:00Z&limit=100"])
    print(f"GET added_after limit 100: median {med:.2f} ms, p99 {p99:.2f} ms")
    print("server RSS after load: " + ", ".join(f"{rss_mb(pid):.0f} MB" for pid in a.server_pid))
    if subprocess.run(["which", "wrk"], capture_output=True).returncode == 0:
        rps, p99s = wrk_all(ports, a.token, f"{base}objects/?match[id]={ids[len(ids) // 2]}")
        print(f"wrk 64 connections{nodes}, match[id]: {rps:,.0f} req/s, p99 {' / '.join(p99s)}")
        print("server RSS after wrk: " + ", ".join(f"{rss_mb(pid):.0f} MB" for pid in a.server_pid))


if __name__ == "__main__":
    main()
