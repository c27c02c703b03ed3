// Collections the user's organisation may read or write (the server lists only those it knows
// of for this user), each a link to a search within it.
import { api } from "../api";
import { href } from "../router";
import { ErrorBox, Loading, useLoad } from "../ui";

export function CollectionsPage() {
  const { data, error, loading } = useLoad(() => api.collections(), "collections");
  const rows = data?.collections ?? [];
  return (
    <main id="main" class="page">
      <h1>Collections</h1>
      <ErrorBox error={error} />
      {loading && !data && <Loading what="collections" />}
      {data && (
        <section class="card">
          {!rows.length && <p class="muted">No collections are open to you.</p>}
          {rows.length > 0 && (
            <table id="collections">
              <thead>
                <tr>
                  <th>Title</th>
                  <th>Alias</th>
                  <th>API root</th>
                  <th>Description</th>
                  <th>Access</th>
                  <th>ID</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((c) => (
                  <tr key={c.id}>
                    <td>
                      {c.can_read ? (
                        <a href={href("/search?collection=" + encodeURIComponent(c.id))}>{c.title}</a>
                      ) : (
                        c.title
                      )}
                    </td>
                    <td>{c.alias ?? ""}</td>
                    <td>{c.api_root}</td>
                    <td class="wrap">{c.description ?? ""}</td>
                    <td>
                      <span class={"pill" + (c.can_read ? "" : " off")}>{c.can_read ? "✓ read" : "✗ no read"}</span>
                      <span class={"pill" + (c.can_write ? "" : " off")}>{c.can_write ? "✓ write" : "✗ no write"}</span>
                    </td>
                    <td class="mono small">{c.id}</td>
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
