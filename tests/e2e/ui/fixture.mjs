// The browser tests' hub: a real data directory made with the ctihub CLI (three organisations,
// users of every role, collections, agreements, objects at every TLP with relationships, a
// sighting and a second version), and a real `ctihub serve` on 127.0.0.1 port 0.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";

export const TLP = {
  clear: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
  green: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
  amber: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
  "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
  red: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
};

const oid = (kind, n) => `${kind}--00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const T0 = "2026-03-01T00:00:00.000Z";

function base(kind, n, tlp, name, extra = {}) {
  return {
    type: kind,
    spec_version: "2.1",
    id: oid(kind, n),
    created: T0,
    modified: T0,
    name,
    object_marking_refs: [TLP[tlp]],
    ...extra,
  };
}

function indicator(n, tlp, name, ip, extra = {}) {
  return base("indicator", n, tlp, name, {
    description: `Indicator ${name} seen in the e2e fixture`,
    pattern: `[ipv4-addr:value = '${ip}']`,
    pattern_type: "stix",
    valid_from: "2026-03-01T00:00:00Z",
    indicator_types: ["malicious-activity"],
    ...extra,
  });
}

function malware(n, tlp, name) {
  return base("malware", n, tlp, name, { is_family: true, malware_types: ["trojan"], description: `Malware family ${name}` });
}

function rel(n, tlp, source, target, type = "indicates") {
  const o = {
    type: "relationship",
    spec_version: "2.1",
    id: oid("relationship", n),
    created: T0,
    modified: T0,
    relationship_type: type,
    source_ref: source,
    target_ref: target,
    object_marking_refs: [TLP[tlp]],
  };
  return o;
}

// Every object has a unique one-word name (a full-text token found nowhere else), so a search
// for it, or its appearance on any page, names exactly that object.
export const OBJ = {
  A_CLEAR: oid("indicator", 1),
  A_GREEN: oid("indicator", 2),
  A_AMBER: oid("malware", 3),
  A_RED: oid("indicator", 4),
  A_REL: oid("relationship", 5),
  A_SIGHTING: oid("sighting", 6),
  A_INTERNAL: oid("indicator", 7),
  A_GREEN_REL: oid("relationship", 8),
  A_GREEN_MAL: oid("malware", 9),
  A_CLEAR_RED_REL: oid("relationship", 10),
  A_CLEAR_GREEN_REL: oid("relationship", 15),
  B_GREEN: oid("indicator", 11),
  B_AMBER: oid("malware", 12),
  B_REL: oid("relationship", 13),
  B_STRICT: oid("indicator", 14),
  G_AMBER: oid("indicator", 21),
  G_GREEN: oid("indicator", 22),
};

export const NAMES = {
  [OBJ.A_CLEAR]: "acmeclearbeacon",
  [OBJ.A_GREEN]: "acmegreenbeacon",
  [OBJ.A_AMBER]: "acmeambertrojan",
  [OBJ.A_RED]: "acmeredbeacon",
  [OBJ.A_INTERNAL]: "acmeinternalbeacon",
  [OBJ.A_GREEN_MAL]: "acmegreentrojan",
  [OBJ.B_GREEN]: "betagreenbeacon",
  [OBJ.B_AMBER]: "betaambertrojan",
  [OBJ.B_STRICT]: "betastrictbeacon",
  [OBJ.G_AMBER]: "gammaamberbeacon",
  [OBJ.G_GREEN]: "gammagreenbeacon",
};

function acmeObjects() {
  return [
    indicator(1, "clear", NAMES[OBJ.A_CLEAR], "198.51.100.1"),
    indicator(2, "green", NAMES[OBJ.A_GREEN], "198.51.100.2"),
    // A second version of the GREEN indicator (for the diff view).
    indicator(2, "green", NAMES[OBJ.A_GREEN], "198.51.100.2", {
      modified: "2026-04-01T00:00:00.000Z",
      description: "Indicator acmegreenbeacon, confirmed by a second report",
      confidence: 80,
    }),
    malware(3, "amber", NAMES[OBJ.A_AMBER]),
    indicator(4, "red", NAMES[OBJ.A_RED], "198.51.100.4"),
    // A relationship is marked like its most restricted end, so a reader who may read it may
    // read both ends (the ids it names are then no leak of their own).
    rel(5, "amber", OBJ.A_GREEN, OBJ.A_AMBER),
    {
      type: "sighting",
      spec_version: "2.1",
      id: OBJ.A_SIGHTING,
      created: T0,
      modified: T0,
      sighting_of_ref: OBJ.A_GREEN,
      first_seen: "2026-03-02T00:00:00Z",
      last_seen: "2026-03-03T00:00:00Z",
      count: 3,
      object_marking_refs: [TLP.green],
    },
    malware(9, "green", NAMES[OBJ.A_GREEN_MAL]),
    rel(8, "green", OBJ.A_GREEN, OBJ.A_GREEN_MAL),
    // The CLEAR indicator is the graph centre for every organisation: next to a RED and a
    // GREEN object.
    rel(10, "red", OBJ.A_CLEAR, OBJ.A_RED, "related-to"),
    rel(15, "green", OBJ.A_CLEAR, OBJ.A_GREEN, "related-to"),
  ];
}

function betaObjects() {
  return [
    indicator(11, "green", NAMES[OBJ.B_GREEN], "203.0.113.11"),
    malware(12, "amber", NAMES[OBJ.B_AMBER]),
    rel(13, "amber", OBJ.B_GREEN, OBJ.B_AMBER),
    indicator(14, "amber+strict", NAMES[OBJ.B_STRICT], "203.0.113.14"),
  ];
}

function gammaObjects() {
  return [
    indicator(21, "amber", NAMES[OBJ.G_AMBER], "192.0.2.21"),
    indicator(22, "green", NAMES[OBJ.G_GREEN], "192.0.2.22"),
  ];
}

export const ALL_IDS = Object.values(OBJ);

export class Hub {
  constructor(ctihub) {
    this.ctihub = ctihub;
    this.dir = mkdtempSync(join(tmpdir(), "ctihub-e2e-ui-"));
    this.data = join(this.dir, "var");
    this.passwords = {};
    this.tokens = {};
    this.collections = {};
    this.proc = null;
    this.url = null;
  }

  cli(...args) {
    let input;
    if (args.length && typeof args[args.length - 1] === "object") input = args.pop().stdin;
    return execFileSync(this.ctihub, [...args, "--data", this.data], {
      input,
      encoding: "utf8",
      timeout: 60_000,
      stdio: ["pipe", "pipe", "pipe"],
    }).trim();
  }

  /** acme (alice publisher, root admin, ann auditor), beta (bob reader, bea auditor),
   *  gamma (gina reader, hugo hub-auditor). */
  setup() {
    this.cli("init");
    this.cli("api-root", "add", "api1", "--title", "Analyst hub");
    for (const org of ["acme", "beta", "gamma"]) this.cli("org", "add", org);
    const users = [
      ["alice", "acme", "publisher"],
      ["root", "acme", "admin"],
      ["ann", "acme", "auditor"],
      ["bob", "beta", "reader"],
      ["bea", "beta", "auditor"],
      ["gina", "gamma", "reader"],
      ["hugo", "gamma", "hub-auditor"],
    ];
    for (const [user, org, role] of users) {
      const pw = `e2e ${user} ${randomUUID()}`;
      this.cli("user", "add", user, "--org", org, "--role", role, "--password-stdin", { stdin: pw + "\n" });
      this.passwords[user] = pw;
    }
    this.tokens.alice = this.cli("token", "create", "--user", "alice", "--label", "e2e-ui");
    this.collections.shared = this.cli(
      "collection", "add", "--root", "api1", "--title", "Shared intel", "--alias", "shared",
      "--description", "Everything the three organisations exchange",
      "--readers", "acme,beta,gamma", "--writers", "acme,beta,gamma",
    );
    this.collections.internal = this.cli(
      "collection", "add", "--root", "api1", "--title", "Acme internal", "--alias", "acme-internal",
      "--readers", "acme", "--writers", "acme",
    );
    this.cli(
      "agreement", "add", "--id", "acme-to-beta", "--producer", "org:acme", "--recipient", "org:beta",
      "--max-tlp", "green", "--types", "*", "--legal-basis", "e2e fixture: acme shares GREEN with beta",
    );
    this.cli(
      "agreement", "add", "--id", "beta-to-acme", "--producer", "org:beta", "--recipient", "org:acme",
      "--max-tlp", "amber", "--types", "indicator,malware,relationship", "--strip", "description",
      "--legal-basis", "e2e fixture: beta shares AMBER with acme",
    );
    this.importObjects("acme", "shared", acmeObjects());
    this.importObjects("acme", "acme-internal", [indicator(7, "green", NAMES[OBJ.A_INTERNAL], "198.51.100.7")]);
    this.importObjects("beta", "shared", betaObjects());
    this.importObjects("gamma", "shared", gammaObjects());
    return this;
  }

  importObjects(org, collection, objects) {
    const path = join(this.dir, `${org}-${collection}.json`);
    writeFileSync(path, JSON.stringify({ type: "bundle", id: "bundle--" + randomUUID(), objects }));
    this.cli("import", "--collection", collection, "--org", org, path);
  }

  /** Starts `ctihub serve` on 127.0.0.1 port 0; resolves with the base URL. */
  start(...extra) {
    const args = ["serve", "--data", this.data, "--listen", "127.0.0.1:0", "--threads", "2", "--no-sync", ...extra];
    this.stderr = "";
    const proc = spawn(this.ctihub, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.proc = proc;
    proc.stderr.on("data", (d) => {
      this.stderr = (this.stderr + d.toString()).slice(-8000);
    });
    // Each start reads its own process's first "listening on" line (a stopped server's output
    // must not answer for the next one).
    return new Promise((resolve, reject) => {
      let started = false;
      const timer = setTimeout(() => reject(new Error("server did not start in 30 s: " + this.stderr)), 30_000);
      let buf = "";
      proc.stdout.on("data", (d) => {
        if (started) return;
        buf += d.toString();
        const m = /listening on (\S+)/.exec(buf);
        if (m) {
          started = true;
          this.url = m[1].replace(/\/$/, "");
          clearTimeout(timer);
          resolve(this.url);
        }
      });
      proc.on("exit", (code) => {
        clearTimeout(timer);
        if (!started) reject(new Error(`server exited (${code}): ${this.stderr}`));
      });
    });
  }

  /** SIGTERM, then SIGKILL after 15 s; resolves when the process is gone. */
  stop() {
    const p = this.proc;
    this.proc = null;
    this.url = null;
    if (!p || p.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const killer = setTimeout(() => p.kill("SIGKILL"), 15_000);
      p.on("exit", () => {
        clearTimeout(killer);
        resolve();
      });
      p.kill("SIGTERM");
    });
  }

  killNow() {
    if (this.proc && this.proc.exitCode === null) this.proc.kill("SIGKILL");
  }

  cleanup() {
    this.killNow();
    rmSync(this.dir, { recursive: true, force: true });
  }

  basic(user) {
    return "Basic " + Buffer.from(`${user}:${this.passwords[user]}`).toString("base64");
  }

  /** What `user` may read over TAXII: the ids of every object of every collection it can read. */
  async taxiiReadable(user) {
    const headers = { Authorization: this.basic(user), Accept: "application/taxii+json;version=2.1" };
    const cols = await (await fetch(`${this.url}/api1/collections/`, { headers })).json();
    const ids = new Set();
    for (const c of cols.collections ?? []) {
      if (!c.can_read) continue;
      let next = "";
      for (let page = 0; page < 100; page++) {
        const r = await fetch(`${this.url}/api1/collections/${c.id}/objects/?limit=500${next ? "&next=" + encodeURIComponent(next) : ""}`, { headers });
        if (r.status !== 200) throw new Error(`TAXII objects as ${user}: ${r.status} ${await r.text()}`);
        const env = await r.json();
        for (const o of env.objects ?? []) ids.add(o.id);
        if (!env.more) break;
        next = env.next;
      }
    }
    return ids;
  }
}
