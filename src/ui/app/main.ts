/** The dashboard's entry point: shell, routing, theme toggle and keyboard shortcuts. */
import { byId, h, mount } from "./dom.js";
import { installKeyPrompt } from "./keyprompt.js";
import { href, parseRoute, type Route } from "./router.js";
import { applyTheme, effectiveTheme, toggleTheme } from "./theme.js";
import { createCardView } from "./views/card.js";
import { createListView, moveRowFocus } from "./views/list.js";
import { createOverviewView } from "./views/overview.js";
import { createSettingsView } from "./views/settings.js";
import type { View } from "./views/view.js";

const main = byId<HTMLElement>("main");
let lastListHref = "#/";
// The list view is kept alive so "back" from a report returns to the same page.
const listView = createListView();
let current: { kind: Route["view"]; view: View } | undefined;

function viewFor(kind: Route["view"]): View {
  switch (kind) {
    case "list":
      return listView;
    case "report":
      return createCardView(() => lastListHref);
    case "overview":
      return createOverviewView();
    case "settings":
      return createSettingsView();
  }
}

function render(): void {
  const route = parseRoute(location.hash);
  if (route.view === "list") lastListHref = href(route);
  if (current?.kind !== route.view) {
    if (current && current.view !== listView) current.view.dispose?.();
    current = { kind: route.view, view: viewFor(route.view) };
    mount(main, current.view.el);
    if (route.view !== "list") main.focus({ preventScroll: true });
    window.scrollTo({ top: 0 });
  }
  current.view.update(route);
  for (const link of document.querySelectorAll<HTMLAnchorElement>("#nav a")) {
    const active = link.dataset.view === (route.view === "report" ? "list" : route.view);
    if (active) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${{ list: "Reports", report: `Report #${route.view === "report" ? route.id : ""}`, overview: "Overview", settings: "Settings" }[route.view]} · PatchworkMCP`;
}

function themeButton(): HTMLButtonElement {
  const button = h("button", { type: "button", id: "theme-toggle", class: "icon-button" });
  const show = () => {
    const next = effectiveTheme() === "dark" ? "light" : "dark";
    button.textContent = next === "dark" ? "☾ Dark" : "☀ Light";
    button.setAttribute("aria-label", `Switch to ${next} theme`);
    button.title = `Switch to ${next} theme`;
  };
  button.addEventListener("click", toggleTheme);
  window.addEventListener("themechange", show);
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", show);
  show();
  return button;
}

function typing(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))
  );
}

/** Keyboard: / search, j/k move through reports, Esc back to the list, r mark reviewed, n new note. */
function onKey(event: KeyboardEvent): void {
  if (event.ctrlKey || event.metaKey || event.altKey || document.querySelector("dialog[open]")) return;
  if (event.key === "Escape" && current?.kind === "report") {
    location.hash = lastListHref;
    return;
  }
  if (typing(event.target)) return;
  const route = current?.kind;
  if (event.key === "/" && (route === "list" || route === "overview")) {
    event.preventDefault();
    document.getElementById("filter-q")?.focus();
  } else if ((event.key === "j" || event.key === "k") && route === "list") {
    event.preventDefault();
    moveRowFocus(event.key === "j" ? 1 : -1);
  } else if (event.key === "r" && route === "report") {
    document.getElementById("toggle-reviewed")?.click();
  } else if (event.key === "n" && route === "report") {
    event.preventDefault();
    document.getElementById("note-body")?.focus();
  }
}

applyTheme();
installKeyPrompt();
byId("theme-slot").appendChild(themeButton());
window.addEventListener("hashchange", render);
document.addEventListener("keydown", onKey);
render();
