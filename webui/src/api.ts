// The console's client of ctihub's /api/v1 (docs/API.md). Every call goes to this origin with
// the session cookie; state-changing calls send the session's CSRF token. An answer that is not
// 2xx becomes an ApiError carrying the server's TAXII error object, and a 401 on any call but the
// login itself means the session is gone: the app is told (onSessionLost) and shows the login.

export interface User {
  name: string;
  org: string;
  role: string;
}

export interface Session {
  user: User;
  csrf_token: string;
  idle_timeout_s: number;
  expires_at: string;
}

export interface SearchHit {
  id: string;
  type: string;
  name?: string;
  description?: string;
  snippet?: string;
  collection?: string;
  collection_title?: string;
  tlp?: string | null;
  created?: string;
  modified?: string;
  revoked?: boolean;
  producer?: string;
}

export interface SearchResult {
  total: number;
  total_capped: boolean;
  facets: Record<string, Record<string, number>>;
  results: SearchHit[];
  next: string | null;
}

export interface Marking {
  id: string;
  kind: string;
  name: string;
}

export interface OutgoingRel {
  id: string;
  relationship_type: string;
  target_ref: string;
  target_type?: string;
  target_name?: string;
}

export interface IncomingRel {
  id: string;
  relationship_type: string;
  source_ref: string;
  source_type?: string;
  source_name?: string;
}

export type StixObject = Record<string, unknown> & { id: string; type: string };

export interface ObjectView {
  object: StixObject;
  collection?: { id: string; title: string };
  versions: { version: string; date_added: string; collection?: string }[];
  markings: Marking[];
  relationships?: { outgoing: OutgoingRel[]; incoming: IncomingRel[] };
  sightings?: Record<string, unknown>[];
  who_saw?: Record<string, unknown>[];
}

export interface Graph {
  nodes: { id: string; type: string; label: string }[];
  edges: { id: string; source: string; target: string; relationship_type: string }[];
  truncated: boolean;
}

export interface Stats {
  objects: number;
  by_type: Record<string, number>;
  by_tlp: Record<string, number>;
  by_producer: Record<string, number>;
  by_day: { day: string; count: number }[];
  ingest_per_min?: { minute: string; count: number }[];
  latest_objects: SearchHit[];
  latest_sightings: SearchHit[];
}

export interface Collection {
  id: string;
  api_root: string;
  title: string;
  description?: string;
  alias?: string;
  can_read: boolean;
  can_write: boolean;
}

export interface Agreement {
  id: string;
  producer: string;
  recipient: string;
  max_tlp: string;
  pap_ceiling?: string;
  types?: string[];
  strip?: string[];
  withhold_sco?: string[];
  reshare?: boolean;
  relay?: boolean;
  valid_from?: string;
  expires?: string;
  revoked?: boolean;
  legal_basis?: string;
  // The names `ctihub agreement list --json` uses, accepted too.
  object_types?: string[];
  strip_properties?: string[];
  withhold_sco_types?: string[];
  revoked_at?: string | null;
  state?: string;
}

export interface AuditRecord {
  seq: number;
  time: string;
  user: string;
  org: string;
  action: string;
  route: string;
  status: number;
  remote?: string;
  objects: { id: string; version: string; grant?: string; redacted?: boolean }[];
  details?: unknown;
}

export interface AuditPage {
  order: string;
  more: boolean;
  next?: string;
  records: AuditRecord[];
}

export interface Peer {
  name: string;
  url?: string;
  last_pull?: string | null;
  last_push?: string | null;
  lag_s?: number | null;
  [key: string]: unknown;
}

export interface ImportJob {
  state: "running" | "done" | "failed";
  objects_read?: number;
  objects_stored?: number;
  errors?: unknown[];
  total_bytes?: number;
  read_bytes?: number;
}

/** A non-2xx answer, with the fields of the server's error object when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly description: string,
    readonly errorId: string,
  ) {
    super(description ? `${title}: ${description}` : title);
  }
}

const API = "/api/v1";
let csrfToken = "";
let sessionLost: (reason: string) => void = () => {};

export function onSessionLost(handler: (reason: string) => void): void {
  sessionLost = handler;
}

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

async function errorFrom(res: Response): Promise<ApiError> {
  let title = res.statusText || `HTTP ${res.status}`;
  let description = "";
  let errorId = "";
  try {
    const body = (await res.json()) as Record<string, unknown>;
    if (typeof body.title === "string") title = body.title;
    if (typeof body.description === "string") description = body.description;
    if (typeof body.error_id === "string") errorId = body.error_id;
  } catch {
    // not a JSON error object: keep the status line
  }
  return new ApiError(res.status, title, description, errorId);
}

interface CallOptions {
  method?: string;
  body?: unknown;
  /** The login and the session probe handle 401 themselves. */
  quiet401?: boolean;
}

export async function call<T>(path: string, opts: CallOptions = {}): Promise<T> {
  const method = opts.method ?? "GET";
  const headers: Record<string, string> = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(API + path, { method, headers, body, credentials: "same-origin" });
  } catch (e) {
    throw new ApiError(0, "Network error", `the hub did not answer (${String(e)})`, "network");
  }
  if (res.status === 401 && !opts.quiet401) {
    const err = await errorFrom(res);
    sessionLost(err.errorId === "session_expired" ? "expired" : "signed-out");
    throw err;
  }
  if (!res.ok) throw await errorFrom(res);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A query string of the non-empty values (arrays repeat the key). */
export function query(params: Record<string, string | string[] | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "") continue;
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
    else q.append(k, v);
  }
  const s = q.toString();
  return s ? "?" + s : "";
}

export const api = {
  login: (creds: { user: string; password: string } | { token: string }) =>
    call<Session>("/session", { method: "POST", body: creds, quiet401: true }),
  session: () => call<Session>("/session", { quiet401: true }),
  logout: () => call<void>("/session", { method: "DELETE", quiet401: true }),
  search: (params: Record<string, string | string[] | undefined>) =>
    call<SearchResult>("/search" + query(params)),
  object: (id: string) => call<ObjectView>("/objects/" + encodeURIComponent(id)),
  objectVersion: (id: string, version: string) =>
    call<{ object: StixObject }>(
      "/objects/" + encodeURIComponent(id) + "/versions/" + encodeURIComponent(version),
    ),
  graph: (id: string, depth = 1, maxNodes = 150) =>
    call<Graph>(
      "/graph/" + encodeURIComponent(id) + query({ depth: String(depth), max_nodes: String(maxNodes) }),
    ),
  stats: () => call<Stats>("/stats"),
  collections: () => call<{ collections: Collection[] }>("/collections"),
  agreements: () => call<{ agreements: Agreement[] }>("/agreements"),
  addAgreement: (a: Record<string, unknown>) =>
    call<unknown>("/agreements", { method: "POST", body: a }),
  revokeAgreement: (id: string, reason: string) =>
    call<unknown>("/agreements/" + encodeURIComponent(id) + query({ reason }), {
      method: "DELETE",
      body: { reason },
    }),
  audit: (params: Record<string, string | undefined>) => call<AuditPage>("/audit" + query(params)),
  auditVerify: () => call<{ ok: boolean; records: number; detail: string }>("/audit/verify"),
  peers: () => call<{ peers: Peer[] }>("/peers"),
  importStatus: (job: string) => call<ImportJob>("/import/" + encodeURIComponent(job)),
};

/**
 * Uploads a file to POST /api/v1/import with upload progress (fetch has none), then returns the
 * job id. XMLHttpRequest is the only browser API that reports request-body progress.
 */
export function uploadImport(
  collection: string,
  format: string,
  file: File,
  onProgress: (sent: number, total: number) => void,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", API + "/import" + query({ collection, format, name: file.name }));
    xhr.setRequestHeader("X-CSRF-Token", csrfToken);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onerror = () => reject(new ApiError(0, "Network error", "the upload was interrupted", "network"));
    xhr.onload = () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(xhr.responseText || "{}");
      } catch {
        // keep empty
      }
      if (xhr.status >= 200 && xhr.status < 300 && typeof body.job === "string") {
        resolve(body.job);
        return;
      }
      if (xhr.status === 401) sessionLost(body.error_id === "session_expired" ? "expired" : "signed-out");
      reject(
        new ApiError(
          xhr.status,
          typeof body.title === "string" ? body.title : `HTTP ${xhr.status}`,
          typeof body.description === "string" ? body.description : "",
          typeof body.error_id === "string" ? body.error_id : "",
        ),
      );
    };
    xhr.send(file);
  });
}
