// The audit trail (auditors): newest first, filtered by user, organisation, object, action and
// time, paged with `before=`; and the chain's verify status. An organisation's auditor sees what
// the server screens for it (its own users' records and those naming objects it may read).
import { useEffect, useState } from "preact/hooks";
import { api, type AuditPage as Page, type Session } from "../api";
import { href, navigate, objectPath, type Location } from "../router";
import { ErrorBox, fmtTime, Loading, useLoad } from "../ui";


const FILTERS: [string, string, string][] = [
  ["user", "User", "alice"],
  ["org", "Organisation", "acme"],
  ["object", "Object id", "indicator--…"],
  ["action", "Action", "object.served"],
  ["since", "Since", "YYYY-MM-DD or RFC 3339"],
  ["until", "Until", "YYYY-MM-DD or RFC 3339"],
];

function toInstant(s: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s;
}

function Verify() {
  const { data, error, loading } = useLoad(() => api.auditVerify(), "verify");
  return (
    <div class="verify-line" id="audit-verify" aria-live="polite">
      <strong>Chain verification: </strong>
      {loading && <span class="muted">checking…</span>}
      {data && (
        <>
          <span class={data.ok ? "state-ok" : "state-bad"}>{data.ok ? "✔ intact" : "✘ BROKEN"}</span> —{" "}
          {data.records.toLocaleString("en-GB")} records checked. <span class="muted">{data.detail}</span>
        </>
      )}
      <ErrorBox error={error} />
    </div>
  );
}

export function AuditPage({ loc, session }: { loc: Location; session: Session }) {
  const params = loc.params;
  const [form, setForm] = useState<Record<string, string>>({});
  useEffect(() => {
    const f: Record<string, string> = {};
    FILTERS.forEach(([k]) => (f[k] = params.get(k) ?? ""));
    setForm(f);
  }, [params.toString()]);
  const key = params.toString();
  const { data, error, loading } = useLoad<Page>(() => {
    const q: Record<string, string | undefined> = { limit: "50" };
    FILTERS.forEach(([k]) => {
      const v = params.get(k);
      if (v) q[k] = k === "since" || k === "until" ? toInstant(v) : v;
    });
    if (params.get("before")) q.before = params.get("before")!;
    return api.audit(q);
  }, key);

  const apply = (e: Event) => {
    e.preventDefault();
    const p = new URLSearchParams();
    FILTERS.forEach(([k]) => form[k]?.trim() && p.set(k, form[k].trim()));
    navigate("/audit" + (p.toString() ? "?" + p.toString() : ""));
  };
  const older = () => {
    const p = new URLSearchParams(params);
    p.set("before", data!.next!);
    navigate("/audit?" + p.toString());
  };

  return (
    <main id="main" class="page">
      <h1>Audit trail</h1>
      <p class="muted small">
        {session.user.role === "hub-auditor"
          ? "You read the whole trail (hub auditor)."
          : `You read the records of ${session.user.org}'s users and those naming objects ${session.user.org} may read.`}
      </p>
      <Verify />
      <form class="card" onSubmit={apply} aria-label="Audit filters">
        <div class="form-grid cols-6">
          {FILTERS.map(([k, label, ph]) => (
            <div class="field" key={k}>
              <label for={`audit-${k}`}>{label}</label>
              <input
                id={`audit-${k}`}
                value={form[k] ?? ""}
                placeholder={ph}
                onInput={(e) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value })}
              />
            </div>
          ))}
        </div>
        <p class="row">
          <button type="submit" class="primary" id="audit-apply">
            Filter
          </button>
          <a class="button" href={href("/audit")}>
            Clear
          </a>
        </p>
      </form>
      <ErrorBox error={error} />
      {loading && !data && <Loading what="records" />}
      {data && (
        <section class="card">
          {!data.records.length && <p class="muted">No records match.</p>}
          {data.records.length > 0 && (
            <table id="audit-records">
              <thead>
                <tr>
                  <th class="num">#</th>
                  <th>Time</th>
                  <th>User</th>
                  <th>Action</th>
                  <th>Route</th>
                  <th class="num">Status</th>
                  <th>Objects</th>
                </tr>
              </thead>
              <tbody>
                {data.records.map((r) => (
                  <tr key={r.seq}>
                    <td class="num mono small">{r.seq}</td>
                    <td class="small nowrap">{fmtTime(r.time)}</td>
                    <td class="nowrap">
                      {r.user || <span class="muted">—</span>} <span class="muted small">{r.org}</span>
                    </td>
                    <td class="mono small">{r.action}</td>
                    <td class="wrap small mono">{r.route}</td>
                    <td class="num">{r.status || ""}</td>
                    <td class="small wrap">
                      {(r.objects ?? []).slice(0, 5).map((o) => (
                        <div key={o.id + o.version}>
                          <a href={href(objectPath(o.id))}>{o.id}</a>
                          {o.grant ? <span class="muted"> ({o.grant}{o.redacted ? ", redacted" : ""})</span> : null}
                        </div>
                      ))}
                      {(r.objects ?? []).length > 5 && <span class="muted">and {r.objects.length - 5} more</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <div class="pager">
            {params.get("before") && (
              <a class="button" href={href("/audit?" + (() => { const p = new URLSearchParams(params); p.delete("before"); return p.toString(); })())}>
                ← Newest
              </a>
            )}
            <button type="button" disabled={!data.more || !data.next} onClick={older} id="audit-older">
              Older →
            </button>
          </div>
        </section>
      )}
    </main>
  );
}
