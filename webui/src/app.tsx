// The console's shell: the session (probed once, then kept), the header with navigation, search
// box and theme toggle, and the page for the current route. Losing the session anywhere (401,
// idle or absolute expiry) brings the login page back with a message, then the page the user
// was on.
import { useEffect, useState } from "preact/hooks";
import { api, onSessionLost, setCsrfToken, type Session } from "./api";
import { navigate, useLocation, type Location } from "./router";
import { Header } from "./header";
import { LoginPage } from "./pages/login";
import { OverviewPage } from "./pages/overview";
import { SearchPage } from "./pages/search";
import { ObjectPage } from "./pages/object";
import { GraphPage } from "./pages/graph";
import { ImportPage } from "./pages/import";
import { CollectionsPage } from "./pages/collections";
import { AgreementsPage } from "./pages/agreements";
import { AuditPage } from "./pages/audit";
import { PeersPage } from "./pages/peers";

export const isAdmin = (s: Session) => s.user.role === "admin";
export const isAuditor = (s: Session) => s.user.role === "auditor" || s.user.role === "hub-auditor";
export const mayImport = (s: Session) => s.user.role === "admin" || s.user.role === "publisher";

function Page({ loc, session }: { loc: Location; session: Session }) {
  const p = loc.path;
  if (p === "/" || p === "") return <OverviewPage />;
  if (p === "/search") return <SearchPage loc={loc} />;
  if (p.startsWith("/objects/")) return <ObjectPage id={decodeURIComponent(p.slice(9))} loc={loc} />;
  if (p.startsWith("/graph/")) return <GraphPage id={decodeURIComponent(p.slice(7))} />;
  if (p === "/import") return <ImportPage />;
  if (p === "/collections") return <CollectionsPage />;
  if (p === "/agreements") return <AgreementsPage session={session} />;
  if (p === "/audit") return <AuditPage loc={loc} session={session} />;
  if (p === "/peers") return <PeersPage session={session} />;
  return (
    <main id="main" class="page">
      <h1>Not found</h1>
      <p>The console has no page at this address.</p>
    </main>
  );
}

export function App() {
  const loc = useLocation();
  const [session, setSession] = useState<Session | null>(null);
  const [probing, setProbing] = useState(true);
  const [lostReason, setLostReason] = useState<string>("");

  useEffect(() => {
    onSessionLost((reason) => {
      setSession(null);
      setCsrfToken("");
      setLostReason(reason);
    });
    api.session().then(
      (s) => {
        setCsrfToken(s.csrf_token);
        setSession(s);
        setProbing(false);
      },
      () => setProbing(false),
    );
  }, []);

  // The login page's own path is /login; every other path needs a session.
  useEffect(() => {
    if (probing) return;
    if (!session && loc.path !== "/login") {
      const back = loc.path + (loc.params.toString() ? "?" + loc.params.toString() : "");
      navigate("/login?next=" + encodeURIComponent(back) + (lostReason ? "&reason=" + lostReason : ""), true);
    } else if (session && loc.path === "/login") {
      const next = loc.params.get("next");
      navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/", true);
    }
  }, [probing, session, loc.path]);

  if (probing) return <p class="muted boot">Loading…</p>;
  if (!session || loc.path === "/login") {
    return (
      <LoginPage
        reason={loc.params.get("reason") ?? ""}
        onLogin={(s) => {
          setCsrfToken(s.csrf_token);
          setLostReason("");
          setSession(s);
        }}
      />
    );
  }
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <Header
        session={session}
        path={loc.path}
        onLogout={async () => {
          try {
            await api.logout();
          } finally {
            setCsrfToken("");
            setLostReason("signed-out");
            setSession(null);
            navigate("/login?reason=signed-out", true);
          }
        }}
      />
      <Page loc={loc} session={session} />
    </div>
  );
}
