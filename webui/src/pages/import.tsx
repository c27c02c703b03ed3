// Upload a file to import it (STIX, MISP, CSV or free text) into a collection the user may
// write: upload progress from the browser, then the server's job progress until done.
import { useEffect, useState } from "preact/hooks";
import { api, type ImportJob, uploadImport } from "../api";
import { href } from "../router";
import { ErrorBox, fmtCount, useLoad } from "../ui";

const FORMATS = [
  ["stix", "STIX 2.x (bundle, object or array)"],
  ["misp", "MISP event JSON"],
  ["csv", "CSV"],
  ["text", "Free text (IOCs are extracted)"],
];

export function ImportPage() {
  const colls = useLoad(() => api.collections(), "collections");
  const writable = (colls.data?.collections ?? []).filter((c) => c.can_write);
  const [collection, setCollection] = useState("");
  const [format, setFormat] = useState("stix");
  const [file, setFile] = useState<File | null>(null);
  const [sent, setSent] = useState<[number, number] | null>(null);
  const [job, setJob] = useState<string>("");
  const [status, setStatus] = useState<ImportJob | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!collection && writable.length) setCollection(writable[0].id);
  }, [writable.length]);

  // Polls the job until it is no longer running (bounded: at most 30 minutes of polls).
  useEffect(() => {
    if (!job) return;
    let stop = false;
    let polls = 0;
    const tick = async () => {
      if (stop || polls++ > 1800) return;
      try {
        const s = await api.importStatus(job);
        if (stop) return;
        setStatus(s);
        if (s.state === "running") window.setTimeout(tick, 700);
        else setBusy(false);
      } catch (e) {
        setError(e);
        setBusy(false);
      }
    };
    void tick();
    return () => {
      stop = true;
    };
  }, [job]);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!file || !collection) return;
    setBusy(true);
    setError(null);
    setStatus(null);
    setJob("");
    setSent([0, file.size]);
    try {
      const id = await uploadImport(collection, format, file, (a, b) => setSent([a, b]));
      setJob(id);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const pct = (a?: number, b?: number) => (a !== undefined && b ? Math.min(100, Math.round((100 * a) / b)) : 0);
  return (
    <main id="main" class="page">
      <h1>Import</h1>
      <ErrorBox error={colls.error} />
      <form class="card" onSubmit={submit}>
        <div class="form-grid">
          <div class="field">
            <label for="imp-collection">Into collection</label>
            <select
              id="imp-collection"
              required
              value={collection}
              onChange={(e) => setCollection((e.target as HTMLSelectElement).value)}
            >
              {!writable.length && <option value="">no collection you may write</option>}
              {writable.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.title} ({c.api_root})
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="imp-format">Format</label>
            <select id="imp-format" value={format} onChange={(e) => setFormat((e.target as HTMLSelectElement).value)}>
              {FORMATS.map(([v, l]) => (
                <option key={v} value={v}>
                  {l}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="imp-file">File</label>
            <input
              id="imp-file"
              type="file"
              required
              onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)}
            />
          </div>
        </div>
        <p class="row">
          <button type="submit" class="primary" disabled={busy || !file || !collection} id="imp-submit">
            Upload and import
          </button>
          {file && <span class="muted small">{fmtCount(file.size)} bytes</span>}
        </p>
      </form>
      <ErrorBox error={error} />
      {sent && (
        <section class="card" aria-live="polite" id="import-progress">
          <h2>Progress</h2>
          <label for="upload-bar">Upload {pct(sent[0], sent[1])}%</label>
          <progress id="upload-bar" max={100} value={pct(sent[0], sent[1])} />
          {job && (
            <>
              <label for="import-bar">
                Import {status ? status.state : "starting"}{" "}
                {status?.total_bytes ? `${pct(status.read_bytes, status.total_bytes)}%` : ""}
              </label>
              <progress id="import-bar" max={100} value={status?.state === "done" ? 100 : pct(status?.read_bytes, status?.total_bytes)} />
              {status && (
                <p>
                  Read <strong>{fmtCount(status.objects_read)}</strong> objects, stored{" "}
                  <strong>{fmtCount(status.objects_stored)}</strong>.{" "}
                  {status.state === "done" && (
                    <a href={href("/search?collection=" + encodeURIComponent(collection))}>See the collection</a>
                  )}
                </p>
              )}
              {status?.errors && status.errors.length > 0 && (
                <>
                  <h3>{status.errors.length} problem(s)</h3>
                  <ul class="small">
                    {status.errors.slice(0, 50).map((e, i) => (
                      <li key={i} class="wrap">
                        {typeof e === "string" ? e : JSON.stringify(e)}
                      </li>
                    ))}
                  </ul>
                </>
              )}
            </>
          )}
        </section>
      )}
    </main>
  );
}
