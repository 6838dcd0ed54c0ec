/** Draft-PR configuration (GET/PUT /api/settings). */
import { h } from "../dom.js";

export function draftSettingsPanel(): HTMLElement {
  return h("section", { class: "panel", id: "settings-draft" }, h("h2", null, "Draft pull requests"), h("p", { class: "muted" }, "Loading…"));
}
