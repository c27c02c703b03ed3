// Overview: how much the user may read (every count is of readable objects only, decided by the
// server), ingest per day as a small SVG bar chart, the latest objects and sightings.
import { api, ApiError, type Stats } from "../api";
import { href } from "../router";
import { ErrorBox, fmtCount, HitList, Loading, Section, useLoad } from "../ui";
import { BarChart } from "../chart";

function Breakdown({ counts, facet }: { counts: Record<string, number>; facet: string }) {
  const entries = Object.entries(counts ?? {}).sort((a, b) => b[1] - a[1]);
  if (!entries.length) return <p class="muted">Nothing yet.</p>;
  const max = Math.max(...entries.map((e) => e[1]), 1);
  return (
    <ul class="kv-bars">
      {entries.slice(0, 10).map(([k, n]) => {
        // Unmarked objects are counted under "null"; the search filter calls them "none".
        const unmarked = facet === "tlp" && k === "null";
        return (
        <li key={k}>
          <a href={href(`/search?${facet}=${encodeURIComponent(unmarked ? "none" : k)}`)} class="wrap">
            {unmarked ? "unmarked" : k}
          </a>
          <span class="bar" aria-hidden="true">
            <span style={{ width: `${(100 * n) / max}%` }} />
          </span>
          <span class="n">{fmtCount(n)}</span>
        </li>
        );
      })}
    </ul>
  );
}

/** The last 30 days up to today, a day without objects as 0 (the API may list only days
 *  that have some). */
function last30Days(byDay: { day: string; count: number }[]): { label: string; value: number }[] {
  const counts = new Map(byDay.map((d) => [d.day.slice(0, 10), d.count]));
  const out: { label: string; value: number }[] = [];
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  for (let i = 29; i >= 0; i--) {
    const day = new Date(today - i * 86_400_000).toISOString().slice(0, 10);
    out.push({ label: day, value: counts.get(day) ?? 0 });
  }
  return out;
}

/** Objects added in the last hour, from the ingest-rate series (one entry per minute). */
function lastHour(s: Stats): number {
  const since = Date.now() - 3600_000;
  return (s.ingest_per_min ?? [])
    .filter((m) => {
      const t = Date.parse(m.minute.length === 16 ? m.minute + ":00Z" : m.minute);
      return Number.isNaN(t) || t >= since;
    })
    .reduce((sum, m) => sum + m.count, 0);
}

/**
 * The statistics; from a hub whose /stats endpoint is not there yet (404 "no such endpoint"),
 * the same counts from the search API's total and facets (also counted over readable objects
 * only), without the per-day series.
 */
async function loadStats(): Promise<Stats & { fromSearch?: boolean; total_capped?: boolean }> {
  try {
    return await api.stats();
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404)) throw e;
    const [all, sightings] = await Promise.all([
      api.search({ limit: "8" }),
      api.search({ type: "sighting", limit: "5" }),
    ]);
    return {
      objects: all.total,
      by_type: all.facets?.type ?? {},
      by_tlp: all.facets?.tlp ?? {},
      by_producer: all.facets?.producer ?? {},
      by_day: [],
      latest_objects: all.results,
      latest_sightings: sightings.results,
      fromSearch: true,
      total_capped: all.total_capped,
    };
  }
}

export function OverviewPage() {
  const { data, error, loading } = useLoad(loadStats, "stats");
  return (
    <main id="main" class="page">
      <h1>Overview</h1>
      <ErrorBox error={error} />
      {loading && !data && <Loading what="statistics" />}
      {data && (
        <>
          <div class="stat-cards">
            <div class="stat" id="stat-objects">
              <div class="num">
                {fmtCount(data.objects)}
                {data.total_capped ? "+" : ""}
              </div>
              <div class="label">objects you may read</div>
            </div>
            <div class="stat">
              <div class="num">{fmtCount(Object.keys(data.by_type ?? {}).length)}</div>
              <div class="label">object types</div>
            </div>
            <div class="stat">
              <div class="num">{fmtCount(Object.keys(data.by_producer ?? {}).length)}</div>
              <div class="label">producers</div>
            </div>
            <div class="stat" id="stat-rate">
              <div class="num">{data.fromSearch ? "—" : fmtCount(lastHour(data))}</div>
              <div class="label">added in the last hour</div>
            </div>
          </div>
          <Section title="Ingest over time (objects added per day, last 30 days)" id="h-ingest">
            {data.fromSearch ? (
              <p class="muted">This hub does not report ingest over time yet (the counts above come from search).</p>
            ) : (
              <BarChart
                points={last30Days(data.by_day ?? [])}
                title="Objects added per day"
              />
            )}
          </Section>
          <div class="grid-3">
            <Section title="By type" id="h-type">
              <Breakdown counts={data.by_type} facet="type" />
            </Section>
            <Section title="By TLP" id="h-tlp">
              <Breakdown counts={data.by_tlp} facet="tlp" />
            </Section>
            <Section title="By producer" id="h-producer">
              <Breakdown counts={data.by_producer} facet="producer" />
            </Section>
          </div>
          <div class="grid-2">
            <Section title="Latest objects" id="h-latest">
              <HitList hits={data.latest_objects ?? []} empty="No objects yet." />
            </Section>
            <Section title="Latest sightings" id="h-sightings">
              <HitList hits={data.latest_sightings ?? []} empty="No sightings yet." />
            </Section>
          </div>
        </>
      )}
    </main>
  );
}
