// Light and dark themes: the user's choice (kept in localStorage) or else the system's
// prefers-color-scheme. The choice is an attribute on <html> that the stylesheet reads.
export type Theme = "light" | "dark";
const KEY = "ctihub-theme";
const media = window.matchMedia("(prefers-color-scheme: dark)");

export function chosenTheme(): Theme | null {
  const v = window.localStorage.getItem(KEY);
  return v === "light" || v === "dark" ? v : null;
}

export function effectiveTheme(): Theme {
  return chosenTheme() ?? (media.matches ? "dark" : "light");
}

export function applyTheme(): void {
  document.documentElement.dataset.theme = effectiveTheme();
}

export function toggleTheme(): Theme {
  const next: Theme = effectiveTheme() === "dark" ? "light" : "dark";
  window.localStorage.setItem(KEY, next);
  applyTheme();
  return next;
}

media.addEventListener("change", applyTheme);
