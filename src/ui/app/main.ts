/** The dashboard's entry point: shell, routing, theme toggle and keyboard shortcuts. */
import { byId, h, mount } from "./dom.js";
import { installKeyPrompt } from "./keyprompt.js";
import { watchForChanges } from "./live.js";
import { href, parseRoute, type Route } from "./router.js";
import { applyTheme, effectiveTheme, toggleTheme } from "./theme.js";
import { createCardView } from "./views/card.js";
import { createGapView } from "./views/gap.js";
import { createGapsView, moveGapFocus } from "./views/gaps.js";
import { createListView, moveRowFocus } from "./views/list.js";
import { createOverviewView } from "./views/overview.js";
import { createSettingsView } from "./views/settings.js";
import { createToolView } from "./views/tool.js";
import { createToolsView } from "./views/tools.js";
import type { View } from "./views/view.js";

const main = byId<HTMLElement>("main");
let lastListHref = "#/reports";
// The two lists are kept alive so "back" from a report or a gap returns to the same page.
const listView = createListView();
const gapsView = createGapsView();
const kept = new Set<View>([listView, gapsView]);
let lastGapsHref = "#/";
let current: { kind: Route["view"]; view: View } | undefined;

function viewFor(kind: Route["view"]): View {
  switch (kind) {
    case "gaps":
      return gapsView;
    case "gap":
      return createGapView(() => lastGapsHref);
    case "list":
      return listView;
    case "report":
      return createCardView(() => lastListHref);
    case "overview":
      return createOverviewView();
    case "tools":
      return createToolsView();
    case "tool":
      return createToolView();
    case "settings":
      return createSettingsView();
  }
}

function render(): void {
  const route = parseRoute(location.hash);
  if (route.view === "list") lastListHref = href(route);
  if (route.view === "gaps") lastGapsHref = href(route);
  if (current?.kind !== route.view) {
    if (current && !kept.has(current.view)) current.view.dispose?.();
    current = { kind: route.view, view: viewFor(route.view) };
    mount(main, current.view.el);
    if (route.view !== "list" && route.view !== "gaps") main.focus({ preventScroll: true });
    window.scrollTo({ top: 0 });
  }
  current.view.update(route);
  for (const link of document.querySelectorAll<HTMLAnchorElement>("#nav a")) {
    const section =
      route.view === "report" ? "list" : route.view === "gap" ? "gaps" : route.view === "tool" ? "tools" : route.view;
    const active = link.dataset.view === section;
    if (active) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const titles: Record<Route["view"], string> = {
    gaps: "Gaps",
    gap: `Gap #${route.view === "gap" ? route.id : ""}`,
    list: "Reports",
    report: `Report #${route.view === "report" ? route.id : ""}`,
    overview: "Overview",
    tools: "Tools",
    tool: route.view === "tool" ? `${route.tool_name} · ${route.server_name}` : "Tool",
    settings: "Settings",
  };
  document.title = `${titles[route.view]} · PatchworkMCP`;
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

/** Keyboard: / search, j/k move through gaps or reports, Esc back to the list, r mark reviewed, n new note. */
function onKey(event: KeyboardEvent): void {
  if (event.ctrlKey || event.metaKey || event.altKey || document.querySelector("dialog[open]")) return;
  if (event.key === "Escape" && current?.kind === "report") {
    location.hash = lastListHref;
    return;
  }
  if (event.key === "Escape" && current?.kind === "gap" && !typing(event.target)) {
    location.hash = lastGapsHref;
    return;
  }
  if (typing(event.target)) return;
  const route = current?.kind;
  if (event.key === "/" && (route === "list" || route === "overview" || route === "gaps")) {
    event.preventDefault();
    document.getElementById(route === "gaps" ? "gap-filter-q" : "filter-q")?.focus();
  } else if ((event.key === "j" || event.key === "k") && route === "list") {
    event.preventDefault();
    moveRowFocus(event.key === "j" ? 1 : -1);
  } else if ((event.key === "j" || event.key === "k") && route === "gaps") {
    event.preventDefault();
    moveGapFocus(event.key === "j" ? 1 : -1);
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
// New reports show up on the screen in view (see live.ts).
watchForChanges(() => current?.view.refresh?.());
