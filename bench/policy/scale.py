#!/usr/bin/env python3
"""How the sharing policy's load scales with the number of organisations and
agreements (docs/SCALING.md): generates DATA/policy.toml with ORGS organisations
in 20 communities and AGREEMENTS agreements (every organisation produces for a
few others and for one community), then times `ctihub policy check` (the load
the server does at start and on every policy change) and reads its peak RSS.

Usage: bench/policy/scale.py CTIHUB_BIN [ORGS:AGREEMENTS ...]   (stdlib only)"""
import os, random, resource, subprocess, sys, tempfile, time, uuid

COMMUNITIES = 20


def policy_toml(orgs, agreements):
    rng = random.Random(7)
    out = ['[defaults]\nunmarked_tlp = "amber"\n']
    for c in range(COMMUNITIES):
        out.append(f'[[community]]\nname = "community-{c:02d}"\n')
    for o in range(orgs):
        ident = f"identity--{uuid.UUID(int=(0x5ca1e << 96) | (4 << 76) | (0x8 << 60) | o)}"
        out.append(f'[[organisation]]\nname = "org-{o:04d}"\nidentity = "{ident}"\n'
                   f'communities = ["community-{o % COMMUNITIES:02d}"]\n')
    tlps, paps = ["green", "amber", "amber+strict"], ["green", "amber", "red"]
    for i in range(agreements):
        producer = rng.randrange(orgs)
        if i % 10 == 0:
            recipient = f"community:community-{rng.randrange(COMMUNITIES):02d}"
        else:
            r = rng.randrange(orgs - 1)
            recipient = f"org:org-{r + (r >= producer):04d}"
        tlp = rng.choice(tlps[:2] if recipient.startswith("community:") else tlps)
        types = '["*"]' if rng.randrange(3) else '["indicator", "malware", "report"]'
        out.append(f'[[agreement]]\nid = "ag-{i:06d}"\nproducer = "org:org-{producer:04d}"\n'
                   f'recipient = "{recipient}"\nmax_tlp = "{tlp}"\n'
                   f'object_types = {types}\npap_ceiling = "{rng.choice(paps)}"\n'
                   f'valid_from = "2026-01-01T00:00:00Z"\nlegal_basis = "bench {i}"\n')
    return "\n".join(out)


def measure(binary, orgs, agreements, reps=5):
    with tempfile.TemporaryDirectory() as data:
        subprocess.run([binary, "init", "--data", data], check=True, capture_output=True)
        text = policy_toml(orgs, agreements)
        with open(os.path.join(data, "policy.toml"), "w") as f:
            f.write(text)
        times, rss = [], 0
        for _ in range(reps):
            t0 = time.perf_counter()
            r = subprocess.run([binary, "policy", "check", "--data", data], capture_output=True, text=True)
            times.append(time.perf_counter() - t0)
            if r.returncode != 0:
                sys.exit(f"policy check failed ({orgs} orgs, {agreements} agreements): {r.stderr[:400]}")
            rss = max(rss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        times.sort()
        return len(text), times[len(times) // 2], rss / 1024


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sizes = sys.argv[2:] or ["50:200", "1000:2000", "1000:10000", "1000:50000"]
    print("| organisations | agreements | policy.toml | `policy check` median of 5 | peak RSS |")
    print("|---|---|---|---|---|")
    for s in sizes:
        orgs, agreements = (int(x) for x in s.split(":"))
        size, secs, rss = measure(sys.argv[1], orgs, agreements)
        print(f"| {orgs:,} | {agreements:,} | {size / 1e6:.1f} MB | {secs * 1000:.0f} ms | {rss:.0f} MB |")


if __name__ == "__main__":
    main()
