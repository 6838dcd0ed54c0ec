/**
 * Light/dark theme. With no choice stored the page follows the system
 * (prefers-color-scheme, via CSS); the toggle stores an explicit choice.
 */
export type Theme = "light" | "dark";
const KEY = "patchworkmcp.theme";

export function storedTheme(): Theme | null {
  const value = localStorage.getItem(KEY);
  return value === "light" || value === "dark" ? value : null;
}

export function effectiveTheme(): Theme {
  return storedTheme() ?? (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
}

export function applyTheme(): void {
  const theme = storedTheme();
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

export function setTheme(theme: Theme | null): void {
  if (theme) localStorage.setItem(KEY, theme);
  else localStorage.removeItem(KEY);
  applyTheme();
  window.dispatchEvent(new Event("themechange"));
}

export function toggleTheme(): void {
  setTheme(effectiveTheme() === "dark" ? "light" : "dark");
}
