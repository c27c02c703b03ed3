// Federation peers (admin) and how far behind each one is.
import type { Session } from "../api";
import { api } from "../api";
import { ErrorBox, fmtTime, Loading, useLoad } from "../ui";

/** 3725 -> "1 h 2 min"; null -> "never synced". */
export function fmtLag(s?: number | null): string {
  if (s === undefined || s === null) return "never synced";
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

const SHOWN = new Set(["name", "url", "last_pull", "last_push", "lag_s"]);

export function PeersPage({ session }: { session: Session }) {
  const { data, error, loading } = useLoad(() => api.peers(), "peers");
  const peers = data?.peers ?? [];
  return (
    <main id="main" class="page">
      <h1>Peers</h1>
      {session.user.role !== "admin" && <p class="notice">Peers are shown to administrators.</p>}
      <ErrorBox error={error} />
      {loading && !data && <Loading what="peers" />}
      {data && (
        <section class="card">
          {!peers.length && (
            <p class="muted">
              No peers. Add one with <code>ctihub peer add</code>.
            </p>
          )}
          {peers.length > 0 && (
            <table id="peers">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>URL</th>
                  <th>Last pull</th>
                  <th>Last push</th>
                  <th>Lag</th>
                  <th>Details</th>
                </tr>
              </thead>
              <tbody>
                {peers.map((p) => (
                  <tr key={p.name}>
                    <td>{p.name}</td>
                    <td class="wrap mono small">{p.url ?? ""}</td>
                    <td>{fmtTime(p.last_pull ?? null)}</td>
                    <td>{fmtTime(p.last_push ?? null)}</td>
                    <td class={p.lag_s !== null && p.lag_s !== undefined && p.lag_s > 3600 ? "state-bad" : ""}>
                      {fmtLag(p.lag_s)}
                    </td>
                    <td class="small wrap">
                      {Object.entries(p)
                        .filter(([k]) => !SHOWN.has(k))
                        .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
                        .join(" · ")}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}
    </main>
  );
}
