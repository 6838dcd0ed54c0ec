/**
 * Alerts in the settings view, over /api/alerts (admin): destinations (add, test, delete; a
 * webhook's signing secret shown once), rules (add, delete) and the delivery queue with its dead
 * letters and a retry button. Everything the server sends is set as text, never as markup.
 */
import type { PublicDestination, PublicRule } from "../../../alerts/service.js";
import type { AlertDelivery } from "../../../store/alerts-store.js";
import { ApiError, getJson, request } from "../api.js";
import { h, mount } from "../dom.js";
import { errorMessage } from "../format.js";
import { toast } from "../toast.js";
import { failure, loading } from "./states.js";

interface State {
  destinations: PublicDestination[];
  rules: PublicRule[];
  deliveries: AlertDelivery[];
}

const RULE_KINDS = ["new_gap", "sessions", "regression", "blocked_share", "digest"] as const;

function problem(err: unknown): string {
  if (err instanceof ApiError && err.details?.length)
    return err.details.map((d) => `${d.field}: ${d.message}`).join("; ");
  return errorMessage(err);
}

async function load(): Promise<State> {
  const [d, r, q] = await Promise.all([
    getJson<{ items: PublicDestination[] }>("/api/alerts/destinations"),
    getJson<{ items: PublicRule[] }>("/api/alerts/rules"),
    getJson<{ items: AlertDelivery[] }>("/api/alerts/deliveries?limit=50"),
  ]);
  return { destinations: d.items, rules: r.items, deliveries: q.items };
}

/** `secretBox` outlives re-renders: the secret is shown once and must stay until the page changes. */
function destinationsPart(state: State, refresh: () => void, secretBox: HTMLElement): HTMLElement {
  const errors = h("p", { id: "alerts-dest-error", class: "error", role: "alert" });
  const kind = h(
    "select",
    { id: "alerts-dest-kind" },
    h("option", { value: "webhook" }, "Webhook (signed)"),
    h("option", { value: "slack" }, "Slack incoming webhook"),
    h("option", { value: "email" }, "Email (SMTP)"),
  ) as HTMLSelectElement;
  const url = h("input", {
    id: "alerts-dest-url",
    type: "text",
    placeholder: "https://…",
    autocomplete: "off",
  }) as HTMLInputElement;
  const from = h("input", {
    id: "alerts-dest-from",
    type: "text",
    placeholder: "alerts@example.com",
  }) as HTMLInputElement;
  const to = h("input", {
    id: "alerts-dest-to",
    type: "text",
    placeholder: "dev@example.com, ops@example.com",
  }) as HTMLInputElement;
  const emailFields = h(
    "div",
    { class: "stack", hidden: true },
    h("label", { for: "alerts-dest-from" }, "From"),
    from,
    h("label", { for: "alerts-dest-to" }, "To"),
    to,
  );
  kind.addEventListener("change", () => {
    emailFields.hidden = kind.value !== "email";
  });
  const add = h("button", { type: "button", id: "alerts-dest-add" }, "Add destination");
  add.addEventListener("click", async () => {
    errors.textContent = "";
    const body: Record<string, unknown> = { kind: kind.value, url: url.value };
    if (kind.value === "email") {
      body.from = from.value.trim();
      body.to = to.value
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    }
    try {
      const res = await request("/api/alerts/destinations", { method: "POST", body });
      const created = (await res.json()) as { destination: PublicDestination; secret?: string };
      url.value = "";
      refresh();
      if (created.secret)
        mount(
          secretBox,
          h("p", null, "Signing secret, shown once — give it to the receiver now:"),
          h("code", { id: "alerts-secret-value" }, created.secret),
        );
      toast(`Destination ${created.destination.id} added.`);
    } catch (err) {
      errors.textContent = problem(err);
    }
  });
  const rows = state.destinations.map((d) => {
    const test = h("button", { type: "button", class: "secondary", "data-test": String(d.id) }, "Test");
    test.addEventListener("click", async () => {
      try {
        await request(`/api/alerts/destinations/${d.id}/test`, { method: "POST" });
        toast(`Test alert delivered to destination ${d.id}.`);
      } catch (err) {
        toast(problem(err), "error");
      }
    });
    const del = h("button", { type: "button", class: "secondary", "data-delete-destination": String(d.id) }, "Delete");
    del.addEventListener("click", async () => {
      try {
        await request(`/api/alerts/destinations/${d.id}`, { method: "DELETE" });
        refresh();
      } catch (err) {
        toast(problem(err), "error");
      }
    });
    return h(
      "tr",
      { "data-destination": String(d.id) },
      h("td", null, String(d.id)),
      h("td", null, d.kind),
      h("td", null, d.target),
      h("td", null, test, " ", del),
    );
  });
  return h(
    "div",
    { id: "alerts-destinations" },
    h("h3", null, "Destinations"),
    rows.length
      ? h(
          "table",
          null,
          h(
            "thead",
            null,
            h("tr", null, h("th", null, "Id"), h("th", null, "Kind"), h("th", null, "Where"), h("th", null, "")),
          ),
          h("tbody", null, rows),
        )
      : h("p", { class: "muted" }, "No destination yet."),
    h(
      "div",
      { class: "stack" },
      h("label", { for: "alerts-dest-kind" }, "Kind"),
      kind,
      h("label", { for: "alerts-dest-url" }, "URL"),
      url,
      emailFields,
    ),
    h("div", { class: "actions" }, add),
    errors,
  );
}

function rulesPart(state: State, refresh: () => void): HTMLElement {
  const errors = h("p", { id: "alerts-rule-error", class: "error", role: "alert" });
  const kind = h(
    "select",
    { id: "alerts-rule-kind" },
    RULE_KINDS.map((k) => h("option", { value: k }, k)),
  ) as HTMLSelectElement;
  const dest = h(
    "select",
    { id: "alerts-rule-destination" },
    state.destinations.map((d) => h("option", { value: String(d.id) }, `${d.id} · ${d.kind} · ${d.target}`)),
  ) as HTMLSelectElement;
  const server = h("input", {
    id: "alerts-rule-server",
    type: "text",
    placeholder: "every server",
  }) as HTMLInputElement;
  const threshold = h("input", {
    id: "alerts-rule-threshold",
    type: "text",
    placeholder: "sessions, % blocked, or gaps in a digest",
  }) as HTMLInputElement;
  const windowIn = h("input", {
    id: "alerts-rule-window",
    type: "text",
    placeholder: "24h, daily, weekly",
  }) as HTMLInputElement;
  const add = h("button", { type: "button", id: "alerts-rule-add" }, "Add rule");
  add.addEventListener("click", async () => {
    errors.textContent = "";
    const body: Record<string, unknown> = { kind: kind.value, destination_id: Number(dest.value) };
    if (server.value.trim()) body.server_name = server.value.trim();
    if (threshold.value.trim()) body.threshold = Number(threshold.value);
    if (windowIn.value.trim()) body.window = windowIn.value.trim();
    try {
      await request("/api/alerts/rules", { method: "POST", body });
      refresh();
    } catch (err) {
      errors.textContent = problem(err);
    }
  });
  const rows = state.rules.map((r) => {
    const del = h("button", { type: "button", class: "secondary", "data-delete-rule": String(r.id) }, "Delete");
    del.addEventListener("click", async () => {
      await request(`/api/alerts/rules/${r.id}`, { method: "DELETE" }).catch((err) => toast(problem(err), "error"));
      refresh();
    });
    return h(
      "tr",
      { "data-rule": String(r.id) },
      h("td", null, r.kind),
      h("td", null, String(r.destination_id)),
      h("td", null, r.server_name ?? "every server"),
      h("td", null, r.threshold === null ? "–" : String(r.threshold)),
      h("td", null, del),
    );
  });
  return h(
    "div",
    { id: "alerts-rules" },
    h("h3", null, "Rules"),
    rows.length
      ? h(
          "table",
          null,
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              h("th", null, "Kind"),
              h("th", null, "Destination"),
              h("th", null, "Server"),
              h("th", null, "Threshold"),
              h("th", null, ""),
            ),
          ),
          h("tbody", null, rows),
        )
      : h("p", { class: "muted" }, "No rule yet."),
    state.destinations.length
      ? h(
          "div",
          { class: "stack" },
          h("label", { for: "alerts-rule-kind" }, "When"),
          kind,
          h("label", { for: "alerts-rule-destination" }, "Send to"),
          dest,
          h("label", { for: "alerts-rule-server" }, "Server"),
          server,
          h("label", { for: "alerts-rule-threshold" }, "Threshold"),
          threshold,
          h("label", { for: "alerts-rule-window" }, "Window"),
          windowIn,
          h("div", { class: "actions" }, add),
        )
      : h("p", { class: "muted" }, "Add a destination first."),
    errors,
  );
}

function deliveriesPart(state: State, refresh: () => void): HTMLElement {
  const rows = state.deliveries.map((d) => {
    const retry =
      d.state === "dead"
        ? h("button", { type: "button", class: "secondary", "data-retry": String(d.id) }, "Retry")
        : null;
    retry?.addEventListener("click", async () => {
      try {
        await request(`/api/alerts/deliveries/${d.id}/retry`, { method: "POST" });
        toast(`Delivery ${d.id} queued again.`);
        refresh();
      } catch (err) {
        toast(problem(err), "error");
      }
    });
    return h(
      "tr",
      { "data-delivery": String(d.id), "data-state": d.state },
      h("td", null, String(d.id)),
      h("td", null, d.kind),
      h("td", null, String(d.destination_id)),
      h("td", null, d.state === "dead" ? "dead letter" : d.state),
      h("td", null, String(d.attempts)),
      h("td", null, d.last_error ?? ""),
      h("td", null, retry),
    );
  });
  const reload = h("button", { type: "button", class: "secondary", id: "alerts-refresh" }, "Refresh");
  reload.addEventListener("click", refresh);
  return h(
    "div",
    { id: "alerts-deliveries" },
    h("h3", null, "Deliveries"),
    rows.length
      ? h(
          "table",
          null,
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              h("th", null, "Id"),
              h("th", null, "Alert"),
              h("th", null, "Destination"),
              h("th", null, "State"),
              h("th", null, "Attempts"),
              h("th", null, "Last error"),
              h("th", null, ""),
            ),
          ),
          h("tbody", null, rows),
        )
      : h("p", { class: "muted" }, "Nothing sent yet."),
    h("div", { class: "actions" }, reload),
  );
}

export function alertsSettingsPanel(): HTMLElement {
  const body = h("div", null, loading("alerts"));
  const secretBox = h("div", { id: "alerts-secret" });
  const panel = h("section", { class: "panel", id: "settings-alerts" }, h("h2", null, "Alerts"), secretBox, body);
  const refresh = (): void => {
    load().then(
      (state) =>
        mount(
          body,
          destinationsPart(state, refresh, secretBox),
          rulesPart(state, refresh),
          deliveriesPart(state, refresh),
        ),
      (err: unknown) => mount(body, failure(err, refresh)),
    );
  };
  refresh();
  return panel;
}
