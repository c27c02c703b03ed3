// Sharing agreements (admin): who shares with whom, up to which TLP, what is removed on the way,
// and a form to add one or revoke one. The server validates and audits exactly as
// `ctihub agreement add|revoke` does; its error object is shown as it comes.
import { useState } from "preact/hooks";
import { api, type Agreement, type Session } from "../api";
import { ErrorBox, fmtTime, Loading, PapBadge, TlpBadge, useLoad } from "../ui";

const TLPS = ["clear", "green", "amber", "amber+strict", "red"];
const PAPS = ["", "clear", "green", "amber", "red"];

function list(s: string): string[] {
  return s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
}

/** "2026-12-31" or a full RFC 3339 instant -> RFC 3339; "" stays "". */
function toInstant(s: string): string {
  const v = s.trim();
  return /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v;
}

// The API may answer with the contract's names or with those of `agreement list --json`.
const typesOf = (a: Agreement) => a.types ?? a.object_types ?? [];
const stripOf = (a: Agreement) => a.strip ?? a.strip_properties ?? [];
const withheldOf = (a: Agreement) => a.withhold_sco ?? a.withhold_sco_types ?? [];
const isRevoked = (a: Agreement) => a.revoked === true || !!a.revoked_at || a.state === "revoked";

function Redactions({ a }: { a: Agreement }) {
  const strip = stripOf(a);
  const sco = withheldOf(a);
  if (!strip.length && !sco.length) return <span class="muted">nothing removed</span>;
  return (
    <div class="small">
      {strip.length > 0 && (
        <div>
          removes properties: <strong>{strip.join(", ")}</strong>
        </div>
      )}
      {sco.length > 0 && (
        <div>
          withholds observables: <strong>{sco.join(", ")}</strong>
        </div>
      )}
    </div>
  );
}

function AddForm({ onAdded }: { onAdded: () => void }) {
  const [f, setF] = useState({
    id: "",
    producer: "",
    recipient: "",
    max_tlp: "green",
    pap_ceiling: "",
    types: "*",
    strip: "",
    withhold_sco: "",
    reshare: false,
    relay: false,
    valid_from: "",
    expires: "",
    legal_basis: "",
  });
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState("");
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof f) => (e: Event) => {
    const t = e.target as HTMLInputElement;
    setF({ ...f, [k]: t.type === "checkbox" ? t.checked : t.value });
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setDone("");
    const body: Record<string, unknown> = {
      id: f.id.trim(),
      producer: f.producer.trim(),
      recipient: f.recipient.trim(),
      max_tlp: f.max_tlp,
      types: list(f.types),
      strip: list(f.strip),
      withhold_sco: list(f.withhold_sco),
      reshare: f.reshare,
      relay: f.relay,
      legal_basis: f.legal_basis.trim(),
    };
    if (f.pap_ceiling) body.pap_ceiling = f.pap_ceiling;
    if (f.valid_from.trim()) body.valid_from = toInstant(f.valid_from);
    if (f.expires.trim()) body.expires = toInstant(f.expires);
    try {
      await api.addAgreement(body);
      setDone(`Agreement ${body.id} added.`);
      onAdded();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card" onSubmit={submit} id="agreement-form" aria-labelledby="add-h">
      <h2 id="add-h">Add an agreement</h2>
      <div class="form-grid">
        <div class="field">
          <label for="ag-id">Id</label>
          <input id="ag-id" required value={f.id} onInput={set("id")} placeholder="vendor-to-cert" />
        </div>
        <div class="field">
          <label for="ag-producer">
            Producer <span class="hint">org:NAME or community:NAME</span>
          </label>
          <input id="ag-producer" required value={f.producer} onInput={set("producer")} placeholder="org:acme" />
        </div>
        <div class="field">
          <label for="ag-recipient">
            Recipient <span class="hint">org:NAME or community:NAME</span>
          </label>
          <input id="ag-recipient" required value={f.recipient} onInput={set("recipient")} placeholder="org:cert" />
        </div>
        <div class="field">
          <label for="ag-tlp">Highest TLP shared</label>
          <select id="ag-tlp" value={f.max_tlp} onChange={set("max_tlp")}>
            {TLPS.map((t) => (
              <option key={t} value={t}>
                TLP:{t.toUpperCase()}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="ag-pap">PAP ceiling</label>
          <select id="ag-pap" value={f.pap_ceiling} onChange={set("pap_ceiling")}>
            {PAPS.map((t) => (
              <option key={t} value={t}>
                {t ? "PAP:" + t.toUpperCase() : "(default)"}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="ag-types">
            Object types <span class="hint">comma-separated, or *</span>
          </label>
          <input id="ag-types" required value={f.types} onInput={set("types")} />
        </div>
        <div class="field">
          <label for="ag-strip">
            Remove properties <span class="hint">selector or type:selector, comma-separated</span>
          </label>
          <input id="ag-strip" value={f.strip} onInput={set("strip")} placeholder="description" />
        </div>
        <div class="field">
          <label for="ag-sco">
            Withhold observable types <span class="hint">comma-separated</span>
          </label>
          <input id="ag-sco" value={f.withhold_sco} onInput={set("withhold_sco")} placeholder="email-addr" />
        </div>
        <div class="field">
          <label for="ag-from">
            Valid from <span class="hint">YYYY-MM-DD or RFC 3339</span>
          </label>
          <input id="ag-from" value={f.valid_from} onInput={set("valid_from")} />
        </div>
        <div class="field">
          <label for="ag-expires">
            Expires <span class="hint">YYYY-MM-DD or RFC 3339</span>
          </label>
          <input id="ag-expires" value={f.expires} onInput={set("expires")} />
        </div>
        <div class="field check">
          <input id="ag-reshare" type="checkbox" checked={f.reshare} onChange={set("reshare")} />
          <label for="ag-reshare">Recipient may re-share (one hop, up to AMBER)</label>
        </div>
        <div class="field check">
          <input id="ag-relay" type="checkbox" checked={f.relay} onChange={set("relay")} />
          <label for="ag-relay">Recipient may relay the producer's objects</label>
        </div>
        <div class="field wide">
          <label for="ag-basis">Legal basis</label>
          <input id="ag-basis" required value={f.legal_basis} onInput={set("legal_basis")} />
        </div>
      </div>
      <ErrorBox error={error} />
      {done && (
        <p class="notice" role="status">
          {done}
        </p>
      )}
      <p>
        <button type="submit" class="primary" disabled={busy} id="ag-submit">
          Add agreement
        </button>
      </p>
    </form>
  );
}

function RevokeButton({ a, onDone }: { a: Agreement; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [error, setError] = useState<unknown>(null);
  if (isRevoked(a)) return <span class="state-bad">revoked{a.revoked_at ? " " + fmtTime(a.revoked_at) : ""}</span>;
  if (a.state && a.state !== "active") return <span class="muted">{a.state}</span>;
  if (!open)
    return (
      <button type="button" class="danger" onClick={() => setOpen(true)} data-revoke={a.id}>
        Revoke…
      </button>
    );
  return (
    <form
      class="row"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        try {
          await api.revokeAgreement(a.id, reason.trim());
          setOpen(false);
          onDone();
        } catch (err) {
          setError(err);
        }
      }}
    >
      <label for={`reason-${a.id}`} class="sr-only">
        Reason
      </label>
      <input
        id={`reason-${a.id}`}
        required
        placeholder="Reason (recorded in the audit trail)"
        value={reason}
        onInput={(e) => setReason((e.target as HTMLInputElement).value)}
      />
      <button type="submit" class="danger" data-confirm-revoke={a.id}>
        Revoke
      </button>
      <button type="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
      <ErrorBox error={error} />
    </form>
  );
}

export function AgreementsPage({ session }: { session: Session }) {
  const { data, error, loading, reload } = useLoad(() => api.agreements(), "agreements");
  const rows = data?.agreements ?? [];
  return (
    <main id="main" class="page">
      <h1>Sharing agreements</h1>
      {session.user.role !== "admin" && <p class="notice">Agreements are managed by administrators.</p>}
      <ErrorBox error={error} />
      {loading && !data && <Loading what="agreements" />}
      {data && (
        <section class="card">
          {!rows.length && <p class="muted">No agreements: nothing crosses organisations but TLP:CLEAR and what the policy grants.</p>}
          {rows.length > 0 && (
            <table id="agreements">
              <thead>
                <tr>
                  <th>Agreement</th>
                  <th>From → to</th>
                  <th>Up to</th>
                  <th>Types</th>
                  <th>Redactions</th>
                  <th>Valid</th>
                  <th>Legal basis</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                {rows.map((a) => (
                  <tr key={a.id} class={isRevoked(a) ? "revoked" : ""} data-agreement={a.id}>
                    <td class="wrap">
                      <strong>{a.id}</strong>
                      <div class="small muted">
                        {a.reshare ? "may re-share" : "no re-sharing"}
                        {a.relay ? " · may relay" : ""}
                      </div>
                    </td>
                    <td class="wrap">
                      {a.producer} → {a.recipient}
                    </td>
                    <td>
                      <TlpBadge tlp={a.max_tlp} /> {a.pap_ceiling && <PapBadge pap={a.pap_ceiling} />}
                    </td>
                    <td class="wrap small">{typesOf(a).join(", ") || "—"}</td>
                    <td>
                      <Redactions a={a} />
                    </td>
                    <td class="small">
                      {a.valid_from ? fmtTime(a.valid_from) : "now"} – {a.expires ? fmtTime(a.expires) : "no expiry"}
                    </td>
                    <td class="wrap small">{a.legal_basis ?? ""}</td>
                    <td>
                      <RevokeButton a={a} onDone={reload} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}
      {session.user.role === "admin" && <AddForm onAdded={reload} />}
    </main>
  );
}
