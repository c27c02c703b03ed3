// One object: its newest visible version rendered by type, TLP/PAP badges, the version history
// with a property diff between any two versions, relationships both ways, sightings and, for
// auditors, who saw it. Everything shown comes from the server's policy-checked answer.
import { useEffect, useState } from "preact/hooks";
import { api, type ObjectView, type StixObject } from "../api";
import { graphPath, href, objectPath, type Location } from "../router";
import {
  ErrorBox,
  fmtTime,
  JsonValue,
  Loading,
  ObjectLink,
  PapBadge,
  Section,
  TlpBadge,
  TypeTag,
  useLoad,
} from "../ui";

// Properties shown first, per type; every other property follows in name order.
const LEAD: Record<string, string[]> = {
  indicator: ["pattern", "pattern_type", "indicator_types", "valid_from", "valid_until", "kill_chain_phases"],
  malware: ["is_family", "malware_types", "aliases", "first_seen", "last_seen", "capabilities"],
  "threat-actor": ["threat_actor_types", "aliases", "roles", "sophistication", "primary_motivation"],
  "intrusion-set": ["aliases", "first_seen", "last_seen", "goals", "primary_motivation"],
  campaign: ["aliases", "first_seen", "last_seen", "objective"],
  report: ["report_types", "published", "object_refs"],
  vulnerability: ["external_references"],
  sighting: ["sighting_of_ref", "where_sighted_refs", "count", "first_seen", "last_seen", "observed_data_refs"],
  relationship: ["relationship_type", "source_ref", "target_ref", "start_time", "stop_time"],
  "observed-data": ["first_observed", "last_observed", "number_observed", "object_refs"],
  identity: ["identity_class", "sectors", "contact_information"],
  "attack-pattern": ["aliases", "kill_chain_phases"],
  tool: ["tool_types", "aliases", "tool_version"],
};
// Shown in the header or not at all.
const HEADER = new Set(["type", "id", "name", "description", "spec_version"]);
const META = ["created", "modified", "created_by_ref", "revoked", "labels", "confidence", "lang"];

function orderedKeys(o: StixObject): string[] {
  const lead = (LEAD[o.type] ?? ["value"]).filter((k) => k in o);
  const meta = META.filter((k) => k in o && !lead.includes(k));
  const rest = Object.keys(o)
    .filter((k) => !HEADER.has(k) && !lead.includes(k) && !meta.includes(k))
    .sort();
  return [...lead, ...rest, ...meta];
}

function PropValue({ k, v }: { k: string; v: unknown }) {
  if (k === "pattern" && typeof v === "string") return <code class="pattern">{v}</code>;
  if (k === "revoked") return v ? <span class="state-bad">revoked</span> : <span>no</span>;
  if ((k === "created" || k === "modified" || k.endsWith("_seen") || k.startsWith("valid_")) && typeof v === "string")
    return <span title={v}>{fmtTime(v)}</span>;
  return <JsonValue value={v} />;
}

function Properties({ o }: { o: StixObject }) {
  return (
    <table class="props">
      <tbody>
        {orderedKeys(o).map((k) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td class="wrap">
              <PropValue k={k} v={o[k]} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** What to call an object: its name, an observable's value, a relationship's type, else its id. */
function titleOf(o: StixObject): string {
  if (typeof o.name === "string" && o.name.trim()) return o.name;
  if (typeof o.value === "string") return o.value;
  if (o.type === "relationship" && typeof o.relationship_type === "string") return `relationship: ${o.relationship_type}`;
  if (o.type === "sighting") return `sighting${typeof o.count === "number" ? ` (${o.count}×)` : ""}`;
  return o.id;
}

type Change = { key: string; kind: "added" | "removed" | "changed"; before?: unknown; after?: unknown };

export function diffObjects(a: StixObject, b: StixObject): Change[] {
  const keys = Array.from(new Set([...Object.keys(a), ...Object.keys(b)])).sort();
  const out: Change[] = [];
  for (const k of keys) {
    const inA = k in a;
    const inB = k in b;
    if (inA && !inB) out.push({ key: k, kind: "removed", before: a[k] });
    else if (!inA && inB) out.push({ key: k, kind: "added", after: b[k] });
    else if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) out.push({ key: k, kind: "changed", before: a[k], after: b[k] });
  }
  return out;
}

function Versions({ id, view }: { id: string; view: ObjectView }) {
  const versions = view.versions ?? [];
  // By default the newest version against the one before it, whatever order the list has.
  const ordered = [...versions].sort((a, b) => a.version.localeCompare(b.version));
  const [from, setFrom] = useState(ordered.length > 1 ? ordered[ordered.length - 2].version : "");
  const [to, setTo] = useState(ordered.length ? ordered[ordered.length - 1].version : "");
  const [diff, setDiff] = useState<Change[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setDiff(null);
    setError(null);
  }, [from, to]);
  // Bring the differences into view once they are shown.
  useEffect(() => {
    if (diff) document.getElementById("diff-table")?.scrollIntoView({ block: "nearest" });
  }, [diff]);
  if (!versions.length) return <p class="muted">One version.</p>;
  const compare = async () => {
    setBusy(true);
    setError(null);
    try {
      const [a, b] = await Promise.all([api.objectVersion(id, from), api.objectVersion(id, to)]);
      setDiff(diffObjects(a.object, b.object));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <table>
        <thead>
          <tr>
            <th>Version (modified)</th>
            <th>Added to the hub</th>
            <th>Collection</th>
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.version + (v.collection ?? "")}>
              <td class="mono">{v.version}</td>
              <td>{fmtTime(v.date_added)}</td>
              <td class="small">
                {v.collection && v.collection === view.collection?.id ? view.collection.title : (v.collection ?? "")}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {versions.length > 1 && (
        <div class="row" style={{ marginTop: "10px" }}>
          <label for="diff-from">Compare</label>
          <select id="diff-from" value={from} onChange={(e) => setFrom((e.target as HTMLSelectElement).value)}>
            {versions.map((v) => (
              <option key={v.version} value={v.version}>
                {v.version}
              </option>
            ))}
          </select>
          <label for="diff-to">with</label>
          <select id="diff-to" value={to} onChange={(e) => setTo((e.target as HTMLSelectElement).value)}>
            {versions.map((v) => (
              <option key={v.version} value={v.version}>
                {v.version}
              </option>
            ))}
          </select>
          <button type="button" id="diff-button" onClick={compare} disabled={busy || from === to}>
            Show differences
          </button>
        </div>
      )}
      <ErrorBox error={error} />
      {diff && (
        <table class="diff" id="diff-table">
          <thead>
            <tr>
              <th>Property</th>
              <th>{from}</th>
              <th>{to}</th>
            </tr>
          </thead>
          <tbody>
            {!diff.length && (
              <tr>
                <td colSpan={3} class="muted">
                  The two versions are identical.
                </td>
              </tr>
            )}
            {diff.map((c) => (
              <tr key={c.key}>
                <th scope="row">
                  {c.key} <span class="muted small">({c.kind})</span>
                </th>
                <td class={c.kind === "added" ? "" : "removed"}>
                  {c.kind !== "added" && <JsonValue value={c.before} />}
                </td>
                <td class={c.kind === "removed" ? "" : "added"}>
                  {c.kind !== "removed" && <JsonValue value={c.after} />}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function Relationships({ view }: { view: ObjectView }) {
  if (!view.relationships) return <p class="muted">This hub does not list relationships yet.</p>;
  const out = view.relationships?.outgoing ?? [];
  const inc = view.relationships?.incoming ?? [];
  if (!out.length && !inc.length) return <p class="muted">No relationships you may read.</p>;
  return (
    <table id="relationships">
      <thead>
        <tr>
          <th>Direction</th>
          <th>Relationship</th>
          <th>Object</th>
        </tr>
      </thead>
      <tbody>
        {out.map((r) => (
          <tr key={r.id}>
            <td>this →</td>
            <td>
              <ObjectLink id={r.id} label={r.relationship_type} />
            </td>
            <td>
              {r.target_type && <TypeTag type={r.target_type} />}{" "}
              <ObjectLink id={r.target_ref} label={r.target_name || r.target_ref} />
            </td>
          </tr>
        ))}
        {inc.map((r) => (
          <tr key={r.id}>
            <td>→ this</td>
            <td>
              <ObjectLink id={r.id} label={r.relationship_type} />
            </td>
            <td>
              {r.source_type && <TypeTag type={r.source_type} />}{" "}
              <ObjectLink id={r.source_ref} label={r.source_name || r.source_ref} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Sightings({ view }: { view: ObjectView }) {
  if (!view.sightings) return <p class="muted">This hub does not list sightings yet.</p>;
  const s = view.sightings;
  if (!s.length) return <p class="muted">No sightings you may read.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th>Sighting</th>
          <th>First seen</th>
          <th>Last seen</th>
          <th class="num">Count</th>
          <th>Where</th>
        </tr>
      </thead>
      <tbody>
        {s.map((x, i) => (
          <tr key={String(x.id ?? i)}>
            <td>
              <ObjectLink id={String(x.id)} label="open" />
            </td>
            <td>{fmtTime(x.first_seen as string)}</td>
            <td>{fmtTime(x.last_seen as string)}</td>
            <td class="num">{String(x.count ?? "—")}</td>
            <td class="wrap">
              <JsonValue value={x.where_sighted_refs} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function WhoSaw({ rows }: { rows: Record<string, unknown>[] }) {
  if (!rows.length) return <p class="muted">Nobody has been served this object.</p>;
  const cols = Array.from(new Set(rows.flatMap((r) => Object.keys(r))));
  return (
    <table id="who-saw">
      <thead>
        <tr>
          {cols.map((c) => (
            <th key={c}>{c}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={i}>
            {cols.map((c) => (
              <td key={c} class="wrap small">
                {typeof r[c] === "object" ? JSON.stringify(r[c]) : String(r[c] ?? "")}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ObjectPage({ id }: { id: string; loc: Location }) {
  const { data, error, loading } = useLoad<ObjectView>(() => api.object(id), id);
  if (loading && !data) return <main id="main" class="page"><Loading what="the object" /></main>;
  if (error || !data) {
    return (
      <main id="main" class="page">
        <h1>Object</h1>
        <ErrorBox error={error} />
        <p>
          <a href={href("/search")}>Back to search</a>
        </p>
      </main>
    );
  }
  const o = data.object;
  const tlps = (data.markings ?? []).filter((m) => m.kind === "tlp");
  const paps = (data.markings ?? []).filter((m) => m.kind === "pap");
  const statements = (data.markings ?? []).filter((m) => m.kind !== "tlp" && m.kind !== "pap");
  return (
    <main id="main" class="page">
      <div class="obj-head">
        <TypeTag type={o.type} />
        <h1 id="object-title">{titleOf(o)}</h1>
        {tlps.length ? tlps.map((m) => <TlpBadge key={m.id} tlp={m.name} />) : <TlpBadge tlp={null} />}
        {paps.map((m) => (
          <PapBadge key={m.id} pap={m.name} />
        ))}
        {o.revoked === true && <span class="badge tlp-none">revoked</span>}
      </div>
      <p class="muted small mono">
        {o.id} · in {data.collection?.title ?? "?"} ·{" "}
        <a href={href(graphPath(o.id))} id="open-graph">
          Open in graph
        </a>
      </p>
      {statements.map((m) => (
        <p key={m.id} class="notice small">
          {m.name}
        </p>
      ))}
      {typeof o.description === "string" && <p class="prewrap">{o.description}</p>}
      <div class="grid-2">
        <Section title="Properties" id="h-props">
          <Properties o={o} />
        </Section>
        <div>
          <Section title="Relationships" id="h-rels">
            <Relationships view={data} />
          </Section>
          <Section title="Sightings" id="h-sightings">
            <Sightings view={data} />
          </Section>
        </div>
      </div>
      <Section title={`Versions (${data.versions?.length ?? 1})`} id="h-versions">
        <Versions id={o.id} view={data} key={o.id} />
      </Section>
      {data.who_saw && (
        <Section title="Who saw it (auditors)" id="h-whosaw">
          <WhoSaw rows={data.who_saw} />
        </Section>
      )}
      <p>
        <a href={href("/search")}>Back to search</a> · <a href={href(objectPath(o.id))}>Permalink</a>
      </p>
    </main>
  );
}
