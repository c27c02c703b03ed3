// The header: navigation (pages shown by role), the search box with suggestions ("/" focuses
// it; arrows and Enter pick a suggestion), the theme toggle, the user and logout.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type SearchHit, type Session } from "./api";
import { href, navigate, objectPath } from "./router";
import { effectiveTheme, toggleTheme } from "./theme";
import { hitName, TlpBadge, TypeTag } from "./ui";
import { isAdmin, isAuditor, mayImport } from "./app";

function NavLink({ to, path, label }: { to: string; path: string; label: string }) {
  const active = to === "/" ? path === "/" : path.startsWith(to);
  return (
    <a href={href(to)} class={active ? "active" : ""} aria-current={active ? "page" : undefined}>
      {label}
    </a>
  );
}

/** The search box; suggestions come from the same search API (and so the same policy). */
function SearchBox() {
  const input = useRef<HTMLInputElement>(null);
  const [q, setQ] = useState("");
  const [hits, setHits] = useState<SearchHit[]>([]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const ticket = useRef(0);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      const typing = t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName);
      if (e.key === "/" && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
        e.preventDefault();
        input.current?.focus();
        input.current?.select();
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);

  useEffect(() => {
    const text = q.trim();
    if (text.length < 2) {
      setHits([]);
      return;
    }
    const mine = ++ticket.current;
    const timer = window.setTimeout(() => {
      api.search({ q: text, limit: "8" }).then(
        (r) => {
          if (mine !== ticket.current) return;
          setHits(r.results);
          setActive(-1);
        },
        () => mine === ticket.current && setHits([]),
      );
    }, 150);
    return () => window.clearTimeout(timer);
  }, [q]);

  const go = (hit?: SearchHit) => {
    setOpen(false);
    if (hit) navigate(objectPath(hit.id));
    else navigate("/search?q=" + encodeURIComponent(q.trim()));
    input.current?.blur();
  };

  const showList = open && hits.length > 0;
  return (
    <form
      class="searchbox"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        go(active >= 0 ? hits[active] : undefined);
      }}
    >
      <label for="global-search" class="sr-only">
        Search objects
      </label>
      <input
        id="global-search"
        ref={input}
        type="search"
        placeholder="Search  ( / )"
        autocomplete="off"
        role="combobox"
        aria-expanded={showList}
        aria-controls="search-suggestions"
        aria-activedescendant={active >= 0 ? `suggestion-${active}` : undefined}
        value={q}
        onInput={(e) => {
          setQ((e.target as HTMLInputElement).value);
          setOpen(true);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => window.setTimeout(() => setOpen(false), 150)}
        onKeyDown={(e) => {
          if (e.key === "ArrowDown") {
            e.preventDefault();
            setOpen(true);
            setActive((a) => Math.min(a + 1, hits.length - 1));
          } else if (e.key === "ArrowUp") {
            e.preventDefault();
            setActive((a) => Math.max(a - 1, -1));
          } else if (e.key === "Escape") {
            setOpen(false);
          }
        }}
      />
      {showList && (
        <ul id="search-suggestions" class="suggestions" role="listbox">
          {hits.map((h, i) => (
            <li
              key={h.id}
              id={`suggestion-${i}`}
              role="option"
              aria-selected={i === active}
              class={i === active ? "active" : ""}
              data-id={h.id}
              onMouseDown={(e) => {
                e.preventDefault();
                go(h);
              }}
            >
              <TypeTag type={h.type} /> <span class="suggest-name">{hitName(h)}</span> <TlpBadge tlp={h.tlp} />
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}

export function Header({ session, path, onLogout }: { session: Session; path: string; onLogout: () => void }) {
  const [theme, setTheme] = useState(effectiveTheme());
  return (
    <header class="topbar">
      <a class="brand" href={href("/")}>
        ctihub
      </a>
      <nav aria-label="Main">
        <NavLink to="/" path={path} label="Overview" />
        <NavLink to="/search" path={path} label="Search" />
        <NavLink to="/collections" path={path} label="Collections" />
        {mayImport(session) && <NavLink to="/import" path={path} label="Import" />}
        {isAdmin(session) && <NavLink to="/agreements" path={path} label="Agreements" />}
        {isAdmin(session) && <NavLink to="/peers" path={path} label="Peers" />}
        {isAuditor(session) && <NavLink to="/audit" path={path} label="Audit" />}
      </nav>
      <SearchBox />
      <div class="who">
        <button
          type="button"
          class="ghost"
          title="Switch between light and dark theme"
          aria-label={`Switch to ${theme === "dark" ? "light" : "dark"} theme`}
          onClick={() => setTheme(toggleTheme())}
        >
          {theme === "dark" ? "☀ Light" : "☾ Dark"}
        </button>
        <span class="user" title={`role ${session.user.role}`}>
          {session.user.name} <span class="muted">({session.user.org}, {session.user.role})</span>
        </span>
        <button type="button" class="ghost" id="logout" onClick={onLogout}>
          Log out
        </button>
      </div>
    </header>
  );
}
