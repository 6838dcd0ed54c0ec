/** Settings: the API key this browser uses, the theme, and the draft-PR configuration. */
import { h, mount } from "../dom.js";
import { forgetKey, getKey, keyIsRemembered } from "../keystore.js";
import { setTheme, storedTheme, type Theme } from "../theme.js";
import { toast } from "../toast.js";
import { alertsSettingsPanel } from "./alerts-settings.js";
import { autonomySettingsPanel } from "./autonomy-settings.js";
import { draftSettingsPanel } from "./draft-settings.js";
import type { View } from "./view.js";

function keyPanel(): HTMLElement {
  const status = h("p", { id: "key-status" });
  const forget = h("button", { type: "button", class: "secondary", id: "forget-key" }, "Forget key");
  const show = () => {
    const key = getKey();
    status.textContent = key
      ? `A key ending in …${key.slice(-4)} is kept ${keyIsRemembered() ? "in this browser (localStorage)" : "for this tab only (sessionStorage)"}.`
      : "No key stored. If the server requires one, you will be asked for it.";
    forget.hidden = !key;
  };
  forget.addEventListener("click", () => {
    forgetKey();
    show();
    toast("Key forgotten.");
  });
  show();
  return h(
    "section",
    { class: "panel", id: "settings-key" },
    h("h2", null, "API key"),
    status,
    h("div", { class: "actions" }, forget),
  );
}

function themePanel(): HTMLElement {
  const current = storedTheme() ?? "system";
  const choice = (value: Theme | "system", text: string) =>
    h(
      "label",
      { class: "check" },
      h("input", {
        type: "radio",
        name: "theme",
        value,
        id: `theme-${value}`,
        checked: current === value,
        onchange: () => setTheme(value === "system" ? null : value),
      }),
      ` ${text}`,
    );
  return h(
    "section",
    { class: "panel", id: "settings-theme" },
    h("h2", null, "Theme"),
    h(
      "fieldset",
      { class: "stack" },
      h("legend", { class: "sr-only" }, "Theme"),
      choice("system", "Follow the system"),
      choice("light", "Light"),
      choice("dark", "Dark"),
    ),
  );
}

export function createSettingsView(): View {
  const draftSlot = h("div");
  const alertsSlot = h("div");
  const autonomySlot = h("div");
  const el = h(
    "div",
    { class: "view view-settings" },
    h("h1", null, "Settings"),
    keyPanel(),
    themePanel(),
    draftSlot,
    alertsSlot,
    autonomySlot,
  );
  return {
    el,
    update() {
      mount(draftSlot, draftSettingsPanel());
      mount(alertsSlot, alertsSettingsPanel());
      mount(autonomySlot, autonomySettingsPanel());
    },
  };
}
