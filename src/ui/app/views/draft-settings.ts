/**
 * Draft-PR configuration over GET/PUT /api/settings (admin). Secrets are
 * write-only here: the inputs start empty, the server only ever sends back
 * `••••` plus the last 4 characters, and a blank input keeps the saved value.
 */
import type { PublicSettings, SecretName } from "../../../settings/schema.js";
import { ApiError, getJson, request } from "../api.js";
import { h, mount } from "../dom.js";
import { errorMessage } from "../format.js";
import { toast } from "../toast.js";
import { failure, loading } from "./states.js";

const SECRETS: { name: SecretName; label: string; kind: "password" | "url"; hint: string }[] = [
  {
    name: "github_token",
    label: "GitHub token",
    kind: "password",
    hint: "Fine-grained token with contents and pull-request write access.",
  },
  {
    name: "anthropic_api_key",
    label: "Anthropic API key",
    kind: "password",
    hint: "Used when the provider is Anthropic.",
  },
  {
    name: "openai_api_key",
    label: "OpenAI API key",
    kind: "password",
    hint: "Used when the provider is OpenAI (or an OpenAI-compatible server).",
  },
  {
    name: "github_api_url",
    label: "GitHub API URL",
    kind: "url",
    hint: "Only for GitHub Enterprise, e.g. https://github.example.com/api/v3.",
  },
  { name: "anthropic_base_url", label: "Anthropic base URL", kind: "url", hint: "Only for a proxy or gateway." },
  {
    name: "openai_base_url",
    label: "OpenAI base URL",
    kind: "url",
    hint: "An OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1.",
  },
];

interface ServerRow {
  name: HTMLInputElement;
  repo: HTMLInputElement;
  branch: HTMLInputElement;
  original: string | null;
  el: HTMLElement;
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

function field(id: string, label: string, control: HTMLElement, hint?: string): HTMLElement[] {
  const out = [h("label", { for: id }, label), control];
  if (hint) out.push(h("p", { class: "hint", id: `${id}-hint` }, hint));
  return out;
}

function secretStatus(s: PublicSettings["secrets"][SecretName]): string {
  if (!s.set) return "Not set.";
  return s.source === "env"
    ? `Set by the ${s.env} environment variable (${s.masked ?? "••••"}); that overrides anything saved here.`
    : `Saved: ${s.masked ?? "••••"}`;
}

function form(settings: PublicSettings, rerender: (s: PublicSettings) => void): HTMLElement {
  const errors = h("div", { id: "settings-errors" });
  const input = (id: string, value: string | null, extra: Record<string, string> = {}) =>
    h("input", { type: "text", id, value: value ?? "", autocomplete: "off", spellcheck: "false", ...extra });

  // Repository
  const defaultRepo = input("set-default-repo", settings.default?.repo ?? null, { placeholder: "owner/name" });
  const defaultBranch = input("set-default-branch", settings.default?.base_branch ?? null, {
    placeholder: "the repo's default branch",
  });

  // Per-server repositories
  const rows: ServerRow[] = [];
  const rowList = h(
    "div",
    { class: "server-rows", id: "server-rows" },
    h("p", { class: "muted rows-empty-hint" }, "None: every server uses the default repository."),
  );
  const addRow = (name: string | null, repo: string, branch: string | null) => {
    const i = rows.length;
    const row: ServerRow = {
      name: input(`set-server-${i}-name`, name, { placeholder: "server name", "aria-label": "Server name" }),
      repo: input(`set-server-${i}-repo`, repo, { placeholder: "owner/name", "aria-label": "Repository" }),
      branch: input(`set-server-${i}-branch`, branch, { placeholder: "base branch", "aria-label": "Base branch" }),
      original: name,
      el: h("div"),
    };
    row.el = h(
      "div",
      { class: "server-row" },
      row.name,
      row.repo,
      row.branch,
      h(
        "button",
        { type: "button", class: "secondary", "aria-label": "Remove this server", onclick: () => row.el.remove() },
        "Remove",
      ),
    );
    rows.push(row);
    rowList.appendChild(row.el);
  };
  for (const [name, target] of Object.entries(settings.servers)) addRow(name, target.repo, target.base_branch);

  // Model
  const effective = settings.llm.effective;
  const provider = h(
    "select",
    { id: "set-provider" },
    h("option", { value: "" }, `Automatic (now ${effective.provider})`),
    h("option", { value: "anthropic" }, "Anthropic"),
    h("option", { value: "openai" }, "OpenAI or compatible"),
  );
  provider.value = settings.llm.provider ?? "";
  const model = input("set-model", settings.llm.model, { placeholder: `default: ${effective.model}` });
  const tokens = input(
    "set-context-tokens",
    settings.llm.context_tokens === null ? null : String(settings.llm.context_tokens),
    {
      inputmode: "numeric",
      placeholder: `default: ${effective.context_tokens}`,
    },
  );

  // Secrets: write-only inputs plus a Clear toggle.
  const secretInputs = SECRETS.map((s) => {
    const status = settings.secrets[s.name];
    const el = h("input", {
      type: s.kind,
      id: `set-secret-${s.name}`,
      autocomplete: s.kind === "password" ? "new-password" : "off",
      spellcheck: "false",
      placeholder: status.set ? "Leave blank to keep the saved value" : "Not set",
      "aria-describedby": `set-secret-${s.name}-status`,
    });
    const clear = h("input", {
      type: "checkbox",
      id: `set-secret-${s.name}-clear`,
      disabled: !(status.set && status.source === "file"),
    });
    return { ...s, el, clear, status };
  });

  const paths = h("textarea", { id: "set-sensitive-paths", rows: 3, placeholder: ".github/workflows/**" });
  paths.value = settings.allowed_sensitive_paths.join("\n");

  const save = h("button", { type: "submit", class: "primary", id: "settings-save" }, "Save settings");

  const patch = (): Record<string, Json> => {
    const body: Record<string, Json> = {};
    const repo = defaultRepo.value.trim();
    body.default = repo ? { repo, base_branch: defaultBranch.value.trim() || null } : null;
    // Keyed by admin text: a null prototype keeps a server named __proto__ an ordinary key
    // (on `{}`, assigning it would set the prototype and JSON.stringify would drop it).
    const servers: Record<string, Json> = Object.create(null);
    const kept = new Set<string>();
    for (const row of rows) {
      const name = row.name.value.trim();
      if (!row.el.isConnected || !name) continue;
      kept.add(name);
      servers[name] = { repo: row.repo.value.trim(), base_branch: row.branch.value.trim() || null };
    }
    for (const row of rows) if (row.original !== null && !kept.has(row.original)) servers[row.original] = null;
    if (Object.keys(servers).length) body.servers = servers;
    const t = tokens.value.trim();
    body.llm = {
      provider: provider.value || null,
      model: model.value.trim() || null,
      context_tokens: t ? Number(t) : null,
    };
    const lines = paths.value
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
    body.allowed_sensitive_paths = lines.length ? lines : null;
    const secrets: Record<string, Json> = {};
    for (const s of secretInputs) {
      if (s.clear.checked) secrets[s.name] = null;
      else if (s.el.value.trim()) secrets[s.name] = s.el.value.trim();
    }
    if (Object.keys(secrets).length) body.secrets = secrets;
    return body;
  };

  const showErrors = (err: unknown) => {
    const details = err instanceof ApiError ? err.details : undefined;
    mount(
      errors,
      h(
        "div",
        { class: "state state-error", role: "alert" },
        h("p", { class: "state-title" }, "Not saved"),
        h("p", null, errorMessage(err)),
        details?.length
          ? h(
              "ul",
              null,
              details.map((d) => h("li", null, `${d.field}: ${d.message}`)),
            )
          : null,
      ),
    );
  };

  return h(
    "form",
    {
      class: "panel settings-form",
      id: "settings-draft",
      onsubmit: (event) => {
        event.preventDefault();
        save.disabled = true;
        mount(errors);
        request("/api/settings", { method: "PUT", body: patch() })
          .then((res) => res.json() as Promise<PublicSettings>)
          .then(
            (next) => {
              toast("Settings saved.");
              rerender(next);
            },
            (err: unknown) => showErrors(err),
          )
          .finally(() => {
            save.disabled = false;
          });
      },
    },
    h("h2", null, "Draft pull requests"),
    settings.env_overrides.length
      ? h(
          "p",
          { class: "muted", id: "env-overrides" },
          `Set by environment variables (they win over what is saved here): ${settings.env_overrides.join(", ")}.`,
        )
      : null,
    h("h3", null, "Repository"),
    h(
      "div",
      { class: "form-grid" },
      ...field(
        "set-default-repo",
        "Default repository",
        defaultRepo,
        "Used for servers without their own entry below.",
      ),
      ...field("set-default-branch", "Base branch", defaultBranch),
    ),
    h("h3", null, "Per-server repositories"),
    rowList,
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        { type: "button", class: "secondary", id: "add-server", onclick: () => addRow(null, "", null) },
        "Add a server",
      ),
    ),
    h("h3", null, "Model"),
    h(
      "div",
      { class: "form-grid" },
      ...field("set-provider", "Provider", provider),
      ...field("set-model", "Model", model),
      ...field(
        "set-context-tokens",
        "Context window (tokens)",
        tokens,
        "How much of the repository the prompt may carry.",
      ),
    ),
    h("h3", null, "Secrets"),
    h(
      "p",
      { class: "muted" },
      settings.env_file
        ? `Saved to ${settings.env_file} (never to the database, never shown back).`
        : "This server cannot save secrets: set them as environment variables.",
    ),
    h(
      "div",
      { class: "form-grid secrets" },
      secretInputs.flatMap((s) => [
        h("label", { for: s.el.id }, s.label),
        h("div", { class: "secret-input" }, s.el, h("label", { class: "check" }, s.clear, " Clear")),
        h(
          "p",
          { class: "hint", id: `set-secret-${s.name}-status` },
          h("span", { class: "secret-status" }, secretStatus(s.status)),
          ` ${s.hint}`,
        ),
      ]),
    ),
    h("h3", null, "Sensitive paths the model may change"),
    h(
      "div",
      { class: "form-grid" },
      ...field(
        "set-sensitive-paths",
        "Allowed patterns",
        paths,
        "One per line. CI workflows, lockfiles and the like are refused unless listed here.",
      ),
    ),
    errors,
    h("div", { class: "actions" }, save),
  );
}

export function draftSettingsPanel(): HTMLElement {
  const slot = h("div", { id: "settings-draft-slot" });
  const load = () => {
    mount(slot, loading("draft-PR settings"));
    getJson<PublicSettings>("/api/settings").then(
      (settings) => {
        const rerender = (s: PublicSettings) => mount(slot, form(s, rerender));
        rerender(settings);
      },
      (err: unknown) => {
        const hint =
          err instanceof ApiError && err.status === 403
            ? h("p", { class: "muted" }, "Draft-PR settings need an admin key.")
            : null;
        mount(slot, h("section", { class: "panel" }, h("h2", null, "Draft pull requests"), hint, failure(err, load)));
      },
    );
  };
  load();
  return slot;
}
