// Client-side routes under /ui/: the path after the base names the page, the query string its
// state (so a search or an audit filter is a link that can be bookmarked and reloaded).
import { useEffect, useState } from "preact/hooks";

export const BASE = import.meta.env.BASE_URL.replace(/\/$/, ""); // "/ui"

export interface Location {
  path: string; // without the base, always starting with "/"
  params: URLSearchParams;
}

function current(): Location {
  let path = window.location.pathname;
  if (path.startsWith(BASE)) path = path.slice(BASE.length);
  if (!path.startsWith("/")) path = "/" + path;
  return { path, params: new URLSearchParams(window.location.search) };
}

const listeners = new Set<() => void>();
window.addEventListener("popstate", () => listeners.forEach((l) => l()));

/** Goes to an in-app path ("/search?q=x"). */
export function navigate(to: string, replace = false): void {
  const url = BASE + to;
  if (url === window.location.pathname + window.location.search) return;
  if (replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  listeners.forEach((l) => l());
  window.scrollTo(0, 0);
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const l = () => setLoc(current());
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
  return loc;
}

/** The href of an in-app path (for <a>: middle click and "open in new tab" keep working). */
export function href(to: string): string {
  return BASE + to;
}

/** Client-side navigation for plain left clicks on in-app links. */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener("click", (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as HTMLElement).closest("a");
    if (!a || a.target || a.hasAttribute("download")) return;
    const url = new URL(a.href, window.location.href);
    if (url.origin !== window.location.origin || !url.pathname.startsWith(BASE + "/")) return;
    // An in-page anchor (the "skip to content" link) is the browser's to follow.
    if (url.hash && url.pathname === window.location.pathname) return;
    e.preventDefault();
    navigate(url.pathname.slice(BASE.length) + url.search);
  });
}

export function objectPath(id: string): string {
  return "/objects/" + encodeURIComponent(id);
}

export function graphPath(id: string): string {
  return "/graph/" + encodeURIComponent(id);
}
