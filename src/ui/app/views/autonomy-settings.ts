/**
 * The autonomy ladder per server (admin), over GET /api/autonomy and
 * GET/PUT /api/servers/:name/autonomy: the level (suggest, draft, auto_draft),
 * the thresholds, the guardrails, verification and rollback on failure.
 */
import type { AutonomyConfig } from "../../../settings/autonomy.js";
import { ApiError, getJson, request } from "../api.js";
import { h, mount } from "../dom.js";
import { errorMessage } from "../format.js";
import { toast } from "../toast.js";
import { failure, loading } from "./states.js";

type ServerAutonomy = AutonomyConfig & { server_name: string; updated_at: string | null };

const NUMBERS: { key: keyof AutonomyConfig; label: string; step: string; hint: string }[] = [
  {
    key: "min_sessions",
    label: "Minimum distinct sessions",
    step: "1",
    hint: "A gap needs this many to be drafted by itself.",
  },
  {
    key: "min_blocked_share",
    label: "Minimum blocked share (0–1)",
    step: "0.05",
    hint: "Share of its reports that were blocked.",
  },
  { key: "min_score", label: "Minimum score", step: "0.1", hint: "The gap's score, as ranked on the gaps page." },
  {
    key: "max_drafts_per_day",
    label: "Automatic drafts per day",
    step: "1",
    hint: "At most this many per UTC day for this server.",
  },
  {
    key: "confidence_threshold",
    label: "Confidence threshold (0–1)",
    step: "0.05",
    hint: "Under it a change is only suggested.",
  },
  { key: "max_files", label: "Maximum files", step: "1", hint: "More files: kept as a suggestion." },
  { key: "max_changed_lines", label: "Maximum changed lines", step: "1", hint: "Added plus removed lines." },
];

function form(a: ServerAutonomy, reload: (name: string) => void): HTMLElement {
  const id = (k: string) => `autonomy-${k}`;
  const level = h(
    "select",
    { id: id("level") },
    h("option", { value: "suggest", selected: a.level === "suggest" }, "suggest: nothing automatic"),
    h("option", { value: "draft", selected: a.level === "draft" }, "draft: draft PRs on demand"),
    h("option", { value: "auto_draft", selected: a.level === "auto_draft" }, "auto_draft: open draft PRs by itself"),
  ) as HTMLSelectElement;
  const numbers = NUMBERS.map((n) => ({
    ...n,
    el: h("input", {
      type: "number",
      id: id(n.key),
      value: String(a[n.key]),
      step: n.step,
      min: "0",
    }) as HTMLInputElement,
  }));
  const paths = h("textarea", { id: id("allowed-paths"), rows: 3 }) as HTMLTextAreaElement;
  paths.value = a.allowed_paths.join("\n");
  const checkout = h("input", {
    type: "text",
    id: id("checkout"),
    value: a.verification.checkout ?? "",
  }) as HTMLInputElement;
  const command = h("input", {
    type: "text",
    id: id("command"),
    value: a.verification.command ?? "",
  }) as HTMLInputElement;
  const timeout = h("input", {
    type: "number",
    id: id("timeout"),
    value: String(a.verification.timeout_ms),
    min: "1000",
  }) as HTMLInputElement;
  const rollback = h("input", {
    type: "checkbox",
    id: id("rollback"),
    checked: a.rollback_on_failure,
  }) as HTMLInputElement;
  const errors = h("div", { id: id("errors") });
  const save = h("button", { type: "button", id: id("save") }, "Save autonomy") as HTMLButtonElement;
  save.addEventListener("click", async () => {
    const body: Record<string, unknown> = {
      level: level.value,
      allowed_paths: paths.value
        .split("\n")
        .map((p) => p.trim())
        .filter(Boolean),
      rollback_on_failure: rollback.checked,
      verification: {
        checkout: checkout.value.trim() || null,
        command: command.value.trim() || null,
        timeout_ms: Number(timeout.value),
      },
    };
    for (const n of numbers) body[n.key] = Number(n.el.value);
    save.disabled = true;
    try {
      await request(`/api/servers/${encodeURIComponent(a.server_name)}/autonomy`, { method: "PUT", body });
      toast(`Autonomy for ${a.server_name} saved.`);
      reload(a.server_name);
    } catch (err) {
      mount(errors, h("p", { class: "error", role: "alert" }, errorMessage(err)));
      save.disabled = false;
    }
  });
  const row = (k: string, label: string, el: HTMLElement, hint?: string) => [
    h("label", { for: id(k) }, label),
    el,
    hint ? h("p", { class: "hint" }, hint) : null,
  ];
  return h(
    "div",
    { id: id("form") },
    h("h3", null, `Server ${a.server_name}`),
    h(
      "div",
      { class: "form-grid" },
      ...row("level", "Level", level),
      ...numbers.flatMap((n) => row(n.key, n.label, n.el, n.hint)),
      ...row(
        "allowed-paths",
        "Allowed paths",
        paths,
        "Globs, one per line (empty: any path the draft settings allow).",
      ),
      ...row(
        "checkout",
        "Verification checkout",
        checkout,
        "A local git checkout (absolute path); empty: no verification.",
      ),
      ...row(
        "command",
        "Test command",
        command,
        "Runs in a temporary worktree with no secrets in its environment (serve --autonomy-verify).",
      ),
      ...row("timeout", "Timeout (ms)", timeout),
      ...row("rollback", "Roll back when CI fails", rollback),
    ),
    errors,
    h("div", { class: "actions" }, save),
  );
}

export function autonomySettingsPanel(): HTMLElement {
  const slot = h("div", { id: "autonomy-form-slot" });
  const known = h("p", { class: "muted", id: "autonomy-known" });
  const name = h("input", {
    type: "text",
    id: "autonomy-server",
    placeholder: "server name",
    "aria-label": "Server name",
    autocomplete: "off",
  }) as HTMLInputElement;
  const refreshKnown = () =>
    getJson<{ servers: ServerAutonomy[] }>("/api/autonomy").then(
      (r) => {
        known.textContent = r.servers.length
          ? `Configured: ${r.servers.map((s) => `${s.server_name} (${s.level})`).join(", ")}`
          : "Every server is at suggest (the default).";
      },
      (err: unknown) => {
        known.textContent =
          err instanceof ApiError && err.status === 403 ? "Autonomy settings need an admin key." : errorMessage(err);
      },
    );
  const open = (server: string) => {
    if (!server) return;
    refreshKnown();
    mount(slot, loading(`autonomy of ${server}`));
    getJson<ServerAutonomy>(`/api/servers/${encodeURIComponent(server)}/autonomy`).then(
      (a) => mount(slot, form(a, open)),
      (err: unknown) =>
        mount(
          slot,
          failure(err, () => open(server)),
        ),
    );
  };
  const panel = h(
    "section",
    { class: "panel", id: "settings-autonomy" },
    h("h2", null, "Autonomy ladder"),
    h(
      "p",
      { class: "muted" },
      "Per server: suggest (nothing automatic), draft (on demand), or auto_draft within guardrails. Never auto-merge.",
    ),
    known,
    h(
      "div",
      { class: "actions" },
      name,
      h("button", { type: "button", class: "secondary", onclick: () => open(name.value.trim()) }, "Open"),
    ),
    slot,
  );
  refreshKnown();
  return panel;
}
