// Search: full text plus facets (type, TLP, producer from the answer's facet counts; collection,
// time range and revoked as filters), paged with the server's `next` cursor. The query string
// holds the whole search so it can be bookmarked; the counts are of readable objects only.
import { useEffect, useState } from "preact/hooks";
import { api, type Collection, type SearchResult } from "../api";
import { href, navigate, objectPath, type Location } from "../router";
import { ErrorBox, fmtCount, fmtTime, hitName, Loading, Snippet, TlpBadge, TypeTag, useLoad } from "../ui";

const FILTER_KEYS = ["q", "type", "tlp", "producer", "collection", "added_after", "added_before", "revoked"];
const PAGE_SIZE = "25";

function withParam(params: URLSearchParams, key: string, value: string | null): string {
  const p = new URLSearchParams(params);
  p.delete("next");
  p.delete("page");
  if (value === null || value === "") p.delete(key);
  else p.set(key, value);
  return "/search?" + p.toString();
}

/** "2026-12-01" (a date input) -> an RFC 3339 instant the API accepts. */
function dayToInstant(day: string, endOfDay: boolean): string {
  return day ? `${day}T${endOfDay ? "23:59:59.999" : "00:00:00.000"}Z` : "";
}

function FacetGroup({
  name,
  label,
  counts,
  params,
}: {
  name: string;
  label: string;
  counts: Record<string, number> | undefined;
  params: URLSearchParams;
}) {
  const selected = params.get(name);
  // The TLP facet counts unmarked objects under "null"; the filter calls them "none".
  const entries = Object.entries(counts ?? {})
    .map(([k, n]): [string, number] => [name === "tlp" && k === "null" ? "none" : k, n]).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (selected && !entries.some(([k]) => k === selected)) entries.unshift([selected, 0]);
  return (
    <fieldset>
      <legend>{label}</legend>
      {!entries.length && <span class="muted small">none</span>}
      {entries.map(([k, n]) => (
        <label class="facet" key={k}>
          <span>
            <input
              type="checkbox"
              name={`facet-${name}`}
              value={k}
              checked={selected === k}
              onChange={() => navigate(withParam(params, name, selected === k ? null : k))}
              // Enter toggles too (Space is the browser's own key for a checkbox).
              onKeyDown={(e) => {
                if (e.key === "Enter") {
                  e.preventDefault();
                  navigate(withParam(params, name, selected === k ? null : k));
                }
              }}
            />{" "}
            {name === "tlp" ? k === "none" ? <span class="badge tlp-none">unmarked</span> : <TlpBadge tlp={k} /> : k}
          </span>
          <span class="count">{fmtCount(n)}</span>
        </label>
      ))}
    </fieldset>
  );
}

export function SearchPage({ loc }: { loc: Location }) {
  const params = loc.params;
  const [text, setText] = useState(params.get("q") ?? "");
  const [cursors, setCursors] = useState<string[]>([]);
  const collections = useLoad(() => api.collections(), "collections");
  const filterKey = FILTER_KEYS.map((k) => `${k}=${params.get(k) ?? ""}`).join("&");
  const next = params.get("next") ?? "";

  useEffect(() => setText(params.get("q") ?? ""), [params.get("q")]);
  useEffect(() => setCursors([]), [filterKey]);

  const { data, error, loading } = useLoad<SearchResult>(() => {
    const p: Record<string, string | undefined> = { limit: PAGE_SIZE };
    for (const k of FILTER_KEYS) p[k] = params.get(k) ?? undefined;
    if (p.added_after) p.added_after = dayToInstant(p.added_after, false);
    if (p.added_before) p.added_before = dayToInstant(p.added_before, true);
    if (next) p.next = next;
    return api.search(p);
  }, filterKey + "&next=" + next);

  const colls: Collection[] = collections.data?.collections ?? [];
  const page = Number(params.get("page") ?? "1") || 1;
  return (
    <main id="main" class="page">
      <h1>Search</h1>
      <form
        class="search-form"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(withParam(params, "q", text.trim()));
        }}
      >
        <label for="search-q" class="sr-only">
          Full text
        </label>
        <input
          id="search-q"
          type="search"
          placeholder="Names, descriptions, labels, patterns, observable values…"
          value={text}
          maxLength={10240}
          onInput={(e) => setText((e.target as HTMLInputElement).value)}
        />
        <button type="submit" class="primary">
          Search
        </button>
        {params.toString() && (
          <a class="button" href={href("/search")}>
            Clear
          </a>
        )}
      </form>
      <div class="search-layout">
        <aside class="card facets" aria-label="Filters">
          <FacetGroup name="type" label="Type" counts={data?.facets?.type} params={params} />
          <FacetGroup name="tlp" label="TLP" counts={data?.facets?.tlp} params={params} />
          <FacetGroup name="producer" label="Producer" counts={data?.facets?.producer} params={params} />
          <fieldset>
            <legend>
              <label for="f-collection">Collection</label>
            </legend>
            <select
              id="f-collection"
              value={params.get("collection") ?? ""}
              onChange={(e) => navigate(withParam(params, "collection", (e.target as HTMLSelectElement).value))}
            >
              <option value="">any</option>
              {colls
                .filter((c) => c.can_read)
                .map((c) => (
                  <option value={c.id} key={c.id}>
                    {c.title}
                  </option>
                ))}
            </select>
          </fieldset>
          <fieldset>
            <legend>Added</legend>
            <label for="f-after" class="hint">
              from
            </label>
            <input
              id="f-after"
              type="date"
              value={params.get("added_after") ?? ""}
              onChange={(e) => navigate(withParam(params, "added_after", (e.target as HTMLInputElement).value))}
            />
            <label for="f-before" class="hint">
              until
            </label>
            <input
              id="f-before"
              type="date"
              value={params.get("added_before") ?? ""}
              onChange={(e) => navigate(withParam(params, "added_before", (e.target as HTMLInputElement).value))}
            />
          </fieldset>
          <fieldset>
            <legend>
              <label for="f-revoked">Revoked</label>
            </legend>
            <select
              id="f-revoked"
              value={params.get("revoked") ?? ""}
              onChange={(e) => navigate(withParam(params, "revoked", (e.target as HTMLSelectElement).value))}
            >
              <option value="">shown</option>
              <option value="false">hidden</option>
              <option value="true">only revoked</option>
            </select>
          </fieldset>
        </aside>
        <section class="card" aria-labelledby="results-h">
          <h2 id="results-h" aria-live="polite">
            {data
              ? `${fmtCount(data.total)}${data.total_capped ? "+" : ""} result${data.total === 1 ? "" : "s"}`
              : "Results"}
          </h2>
          <ErrorBox error={error} />
          {loading && <Loading what="results" />}
          {data && !data.results.length && <p class="muted">Nothing you may read matches.</p>}
          {data && (
            <ol class="results" id="search-results">
              {data.results.map((r) => (
                <li key={r.id} data-id={r.id}>
                  <div>
                    <TypeTag type={r.type} />{" "}
                    <a class="title" href={href(objectPath(r.id))}>
                      {hitName(r)}
                    </a>{" "}
                    <TlpBadge tlp={r.tlp} /> {r.revoked && <span class="badge tlp-none">revoked</span>}
                  </div>
                  {r.snippet ? (
                    <div class="snippet">
                      <Snippet text={r.snippet} />
                    </div>
                  ) : (
                    r.description && <div class="snippet">{r.description}</div>
                  )}
                  <div class="meta">
                    {r.producer && <>by {r.producer} · </>}
                    {r.collection_title && <>in {r.collection_title} · </>}
                    modified {fmtTime(r.modified)} · <span class="mono">{r.id}</span>
                  </div>
                </li>
              ))}
            </ol>
          )}
          <div class="pager">
            <button
              type="button"
              disabled={!cursors.length}
              onClick={() => {
                const prev = cursors.slice(0, -1);
                const back = cursors[cursors.length - 1];
                setCursors(prev);
                const p = new URLSearchParams(params);
                if (back) p.set("next", back);
                else p.delete("next");
                p.set("page", String(page - 1));
                navigate("/search?" + p.toString());
              }}
            >
              ← Previous
            </button>
            <span class="muted">page {page}</span>
            <button
              type="button"
              id="next-page"
              disabled={!data?.next}
              onClick={() => {
                setCursors([...cursors, next]);
                const p = new URLSearchParams(params);
                p.set("next", data!.next!);
                p.set("page", String(page + 1));
                navigate("/search?" + p.toString());
              }}
            >
              Next →
            </button>
          </div>
        </section>
      </div>
    </main>
  );
}
