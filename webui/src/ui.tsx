// Small shared pieces of the pages: loading data, errors, badges, dates.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError, type SearchHit } from "./api";
import { href, objectPath } from "./router";

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `key` changes; keeps only the newest answer (older ones arrive late). */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const [nonce, setNonce] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const ticket = ++latest.current;
    setState((s) => ({ data: s.data, error: null, loading: true }));
    load().then(
      (data) => ticket === latest.current && setState({ data, error: null, loading: false }),
      (error) => ticket === latest.current && setState({ data: null, error, loading: false }),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, nonce]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { ...state, reload };
}

/** The server's error object, said plainly. */
export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  if (error instanceof ApiError) {
    return (
      <div class="error" role="alert">
        <strong>{error.title}</strong>
        {error.description && <span> — {error.description}</span>}
        <span class="muted">
          {" "}
          ({error.status ? `HTTP ${error.status}` : "no answer"}
          {error.errorId ? `, ${error.errorId}` : ""})
        </span>
      </div>
    );
  }
  return (
    <div class="error" role="alert">
      <strong>Error</strong> — {String(error)}
    </div>
  );
}

export function Loading({ what }: { what?: string }) {
  return (
    <p class="muted" aria-live="polite">
      Loading{what ? " " + what : ""}…
    </p>
  );
}

const TLP_CLASS: Record<string, string> = {
  clear: "tlp-clear",
  white: "tlp-clear",
  green: "tlp-green",
  amber: "tlp-amber",
  "amber+strict": "tlp-amber",
  red: "tlp-red",
};

/** "TLP:AMBER" / "amber+strict" -> its badge (TLP 2.0 colours, text always readable). */
export function TlpBadge({ tlp }: { tlp?: string | null }) {
  if (!tlp) return <span class="badge tlp-none">no TLP</span>;
  const level = tlp.toLowerCase().replace(/^tlp:/, "");
  return <span class={"badge " + (TLP_CLASS[level] ?? "tlp-none")}>TLP:{level.toUpperCase()}</span>;
}

export function PapBadge({ pap }: { pap: string }) {
  const level = pap.toLowerCase().replace(/^pap:/, "");
  return <span class={"badge pap " + (TLP_CLASS[level] ?? "tlp-none")}>PAP:{level.toUpperCase()}</span>;
}

export function TypeTag({ type }: { type: string }) {
  return <span class={"type-tag t-" + type.replace(/[^a-z0-9-]/g, "")}>{type}</span>;
}

/** "2026-12-01T10:00:00.000Z" -> "2026-12-01 10:00 UTC" (ISO order, no locale surprises). */
export function fmtTime(t?: string | null): string {
  if (!t) return "—";
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?/.exec(t);
  return m ? `${m[1]} ${m[2]} UTC` : t;
}

export function fmtCount(n?: number | null): string {
  return n === undefined || n === null ? "—" : n.toLocaleString("en-GB");
}

/** An object's name, else its type and the start of its UUID (relationships, sightings). */
export function hitName(h: { name?: string; id: string; type?: string }): string {
  if (h.name && h.name.trim()) return h.name;
  const [type, uuid] = h.id.split("--");
  return uuid ? `${h.type ?? type} ${uuid.slice(0, 8)}…` : h.id;
}

export function ObjectLink({ id, label }: { id: string; label?: string }) {
  return <a href={href(objectPath(id))}>{label ?? id}</a>;
}

/** A compact list of search-result-shaped objects (overview, latest sightings). */
export function HitList({ hits, empty }: { hits: SearchHit[]; empty: string }) {
  if (!hits.length) return <p class="muted">{empty}</p>;
  return (
    <ul class="hit-list">
      {hits.map((h) => (
        <li key={h.id + (h.modified ?? "")}>
          <TypeTag type={h.type} /> <ObjectLink id={h.id} label={hitName(h)} /> <TlpBadge tlp={h.tlp} />
          <span class="muted small"> {fmtTime(h.modified ?? h.created)}</span>
        </li>
      ))}
    </ul>
  );
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section class="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

/** Shows a value of any JSON shape readably (strings as text, the rest as indented JSON). */
export function JsonValue({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span class="muted">—</span>;
  if (typeof value === "string") {
    if (/^[a-z0-9-]+--[0-9a-f-]{36}$/.test(value) && !value.startsWith("marking-definition--"))
      return <ObjectLink id={value} />;
    return <span class="prewrap">{value}</span>;
  }
  if (typeof value === "number" || typeof value === "boolean") return <span>{String(value)}</span>;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
    return (
      <ul class="plain">
        {(value as string[]).map((v, i) => (
          <li key={i}>
            <JsonValue value={v} />
          </li>
        ))}
      </ul>
    );
  }
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
}

/** A search snippet: the server wraps matched words in [ ]; they become <mark>, the rest text. */
export function Snippet({ text }: { text: string }) {
  const parts = text.split(/(\[[^\]]*\])/);
  return (
    <>
      {parts.map((p, i) => (p.startsWith("[") && p.endsWith("]") && p.length > 2 ? <mark key={i}>{p.slice(1, -1)}</mark> : p))}
    </>
  );
}
