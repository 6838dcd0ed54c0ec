/**
 * One gap: what agents needed (title, suggestions, analysis when there is
 * one), its reports, the 30-day timeline, facets, history, notes and drafts,
 * and the human decisions (status and fixed_in, title, agent note, merge,
 * split, move a report, draft a PR from the gap). Every write goes through the
 * REST API and the page redraws from the server's answer.
 */
import { ApiError, getJson, request } from "../api.js";
import { meterBar, perDayChart } from "../charts.js";
import { h, mount } from "../dom.js";
import { count, errorMessage, fullTime, when } from "../format.js";
import { href, navigate, type Route } from "../router.js";
import { toast } from "../toast.js";
import {
  AGENT_NOTE_MAX,
  type Gap,
  type GapAnalysis,
  type GapDetail,
  type GapHistoryEntry,
  label,
  type Page,
  type Report,
  SETTABLE_GAP_STATUSES,
} from "../types.js";
import { badge } from "./badges.js";
import { draftSection } from "./draft.js";
import { percent } from "./gaps.js";
import { scoreButton } from "./score.js";
import { failure, isAbort, loading } from "./states.js";
import { gapAutonomySection } from "./gap-autonomy.js";
import type { View } from "./view.js";

const REPORTS_PAGE = 50;
/** Set once a server answered that it cannot draft from a gap, so later gap pages hide the button at once. */
let gapDraftUnavailable = false;

type Detail = GapDetail & { analysis?: GapAnalysis | null };

async function send<T>(path: string, method: string, body: unknown): Promise<T> {
  const res = await request(path, { method, body });
  return (await res.json()) as T;
}

const list = <T>(id: string, items: T[], item: (t: T) => Node, none: string) =>
  items.length
    ? h(
        "ul",
        { class: "facet-list", id },
        items.map((t) => h("li", null, item(t))),
      )
    : h("p", { class: "muted" }, none);

function facet(name: string, value: number, max: number): HTMLElement {
  return h(
    "span",
    { class: "rank-row" },
    h("span", { class: "rank-label", title: name }, name),
    meterBar(value, max),
    h("span", { class: "rank-count" }, count(value)),
  );
}

const reportsWord = (n: unknown) => (typeof n === "number" ? `${count(n)} report${n === 1 ? "" : "s"}` : "reports");

/** One history entry as a sentence; details are shown as data, never markup. */
function historyText(e: GapHistoryEntry): string {
  const d = e.details;
  const ids = (v: unknown) => (Array.isArray(v) ? v.map((x) => `#${String(x)}`).join(", ") : "");
  switch (e.action) {
    case "created":
      return "Created";
    case "updated": {
      const to = (d.to ?? {}) as Record<string, unknown>;
      // Setting a status also clears the regression flags: only worth a word when they were set.
      return `Changed ${Object.entries(to)
        .filter(([k, v]) => !((k === "regressed" || k === "needs_review") && !v))
        .map(([k, v]) => `${k} to ${v === null ? "nothing" : typeof v === "string" ? `"${v}"` : JSON.stringify(v)}`)
        .join(", ")}`;
    }
    case "merged_into":
      return `Merged into gap #${String(d.into)} (${reportsWord(d.reports)} moved)`;
    case "merged_from":
      return `Gap #${String(d.from)} merged in (${reportsWord(d.reports)})`;
    case "split":
      return `Split reports ${ids(d.report_ids)} into gap #${String(d.to)}`;
    case "split_from":
      return `Split from gap #${String(d.from)} (reports ${ids(d.report_ids)})`;
    case "report_moved_in":
      return `Report #${String(d.report_id)} moved in${d.from_gap ? ` from gap #${String(d.from_gap)}` : ""}`;
    case "report_moved_out":
      return `Report #${String(d.report_id)} moved to gap #${String(d.to_gap)}`;
    case "report_moved":
      return `Report #${String(d.report_id)} regrouped here from gap #${String(d.from_gap)}`;
    case "retitled":
      return `Retitled from report #${String(d.report_id)}`;
    case "regressed":
      return `Reopened: a report came from a version at or above the fix (${JSON.stringify(d)})`;
    case "needs_review":
      return `Flagged for review (${JSON.stringify(d)})`;
    case "auto_draft_opened":
      return `Opened draft PR ${String(d.url)} by itself`;
    case "auto_draft_suggested":
      return `Kept a change as suggestion #${String(d.suggestion_id)} (${String(d.reason)})`;
    case "auto_draft_verification_failed":
      return `Verification failed (exit code ${String(d.exit_code)}): kept as suggestion #${String(d.suggestion_id)}`;
    case "auto_draft_rolled_back":
    case "draft_rolled_back":
      return `Rolled back draft PR ${String(d.url)} (${String(d.reason)}): PR closed, branch deleted`;
    default:
      return `${e.action} ${JSON.stringify(d)}`;
  }
}

function historyItem(e: GapHistoryEntry): HTMLElement {
  return h(
    "li",
    { class: "history-entry", "data-action": e.action },
    h("time", { datetime: e.at, title: fullTime(e.at) }, fullTime(e.at)),
    h("span", { class: "history-actor" }, e.actor),
    h("span", { class: "history-text" }, historyText(e)),
  );
}

function analysisPanel(a: GapAnalysis): HTMLElement {
  return h(
    "section",
    { class: "panel", id: "gap-analysis" },
    h("h2", null, "Analysis"),
    h("p", { class: "analysis-title" }, a.title),
    h("p", { class: "agent-text" }, a.summary),
    h("h3", null, "Proposed change"),
    h("pre", { class: "diff analysis-change", tabindex: 0 }, a.proposed_change),
    h(
      "p",
      { class: "muted" },
      `By ${a.model}, ${fullTime(a.generated_at)}, from ${count(a.report_count)} report${a.report_count === 1 ? "" : "s"}.`,
    ),
  );
}

/** A gap-id input offering the other gaps on the same server (the API refuses any other server). */
function gapPicker(id: string, labelText: string, options: HTMLDataListElement): HTMLInputElement {
  return h("input", {
    type: "number",
    id,
    min: 1,
    step: 1,
    inputmode: "numeric",
    list: options.id,
    placeholder: "gap #",
    "aria-label": labelText,
  });
}

function renderGap(detail: Detail, reload: () => void, backHref: string): HTMLElement {
  const gap: Gap = detail;
  const busy = (
    els: (HTMLButtonElement | HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement)[],
    on: boolean,
  ) => {
    for (const e of els) e.disabled = on;
  };
  const act = async <T>(
    controls: (HTMLButtonElement | HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement)[],
    run: () => Promise<T>,
    done: (value: T) => void,
  ) => {
    busy(controls, true);
    try {
      done(await run());
    } catch (err) {
      toast(errorMessage(err), "error");
    } finally {
      busy(controls, false);
    }
  };

  // ---- status + fixed_in, title, agent note
  const status = h(
    "select",
    { id: "gap-status", "aria-label": "Gap status" },
    SETTABLE_GAP_STATUSES.map((s) => h("option", { value: s }, label(s))),
  );
  if (gap.status !== "duplicate") status.value = gap.status;
  const fixedIn = h("input", {
    type: "text",
    id: "gap-fixed-in",
    maxlength: 100,
    placeholder: "e.g. 1.5.0",
    value: gap.fixed_in ?? "",
    "aria-label": "Fixed in version",
  });
  const saveStatus = h("button", { type: "submit", class: "primary", id: "gap-status-save" }, "Save");
  const statusForm = h(
    "form",
    {
      class: "stack",
      id: "gap-status-form",
      onsubmit: (e) => {
        e.preventDefault();
        void act(
          [status, fixedIn, saveStatus],
          () =>
            send<Gap>(`/api/gaps/${gap.id}`, "PATCH", { status: status.value, fixed_in: fixedIn.value.trim() || null }),
          (g) => {
            toast(
              `Gap #${g.id} is now ${label(g.status).toLowerCase()}${g.fixed_in ? `, fixed in ${g.fixed_in}` : ""}.`,
            );
            reload();
          },
        );
      },
    },
    h("label", { for: "gap-status" }, "Status"),
    status,
    h("label", { for: "gap-fixed-in" }, "Fixed in (server version; a later report from it reopens the gap)"),
    fixedIn,
    h("div", { class: "actions" }, saveStatus),
  );

  const title = h("input", {
    type: "text",
    id: "gap-title-input",
    maxlength: 200,
    value: gap.title,
    "aria-label": "Gap title",
  });
  const saveTitle = h("button", { type: "submit", class: "secondary", id: "gap-title-save" }, "Rename");
  const titleForm = h(
    "form",
    {
      class: "stack",
      onsubmit: (e) => {
        e.preventDefault();
        const value = title.value.trim();
        if (!value || value === gap.title) return;
        void act(
          [title, saveTitle],
          () => send<Gap>(`/api/gaps/${gap.id}`, "PATCH", { title: value }),
          () => {
            toast("Gap renamed.");
            reload();
          },
        );
      },
    },
    h("label", { for: "gap-title-input" }, "Title"),
    title,
    h("div", { class: "actions" }, saveTitle),
  );

  const note = h("textarea", {
    id: "gap-agent-note",
    rows: 3,
    maxlength: AGENT_NOTE_MAX,
    placeholder: "e.g. Use list_payments with since/until until this ships.",
    "aria-describedby": "gap-agent-note-hint",
  });
  note.value = gap.agent_note ?? "";
  const saveNote = h("button", { type: "submit", class: "primary", id: "gap-note-save" }, "Save note");
  const clearNote = h("button", { type: "button", class: "secondary", id: "gap-note-clear" }, "Clear");
  const patchNote = (value: string | null) =>
    void act(
      [note, saveNote, clearNote],
      () => send<Gap>(`/api/gaps/${gap.id}`, "PATCH", { agent_note: value }),
      (g) => {
        toast(g.agent_note ? "Agent note saved." : "Agent note cleared.");
        reload();
      },
    );
  clearNote.addEventListener("click", () => patchNote(null));
  const noteForm = h(
    "form",
    {
      class: "stack",
      id: "gap-note-form",
      onsubmit: (e) => {
        e.preventDefault();
        patchNote(note.value.trim() || null);
      },
    },
    h("label", { for: "gap-agent-note" }, "Agent note"),
    note,
    h(
      "p",
      { class: "muted hint", id: "gap-agent-note-hint" },
      `Told to every agent whose report joins this gap (at most ${AGENT_NOTE_MAX} characters). Only text you write here is ever echoed to agents.`,
    ),
    h("div", { class: "actions" }, clearNote, saveNote),
  );

  // ---- merge (into another gap on this server)
  const others = h("datalist", { id: "gap-others" });
  getJson<Page<Gap>>(`/api/gaps?server_name=${encodeURIComponent(gap.server_name)}&limit=100`).then(
    (page) =>
      mount(
        others,
        page.items
          .filter((g) => g.id !== gap.id)
          .map((g) => h("option", { value: String(g.id) }, `#${g.id} ${g.title}`)),
      ),
    () => undefined,
  );
  const mergeInto = gapPicker("gap-merge-into", "Merge into gap number", others);
  const mergeButton = h("button", { type: "submit", class: "secondary", id: "gap-merge" }, "Merge");
  const mergeForm = h(
    "form",
    {
      class: "stack",
      id: "gap-merge-form",
      onsubmit: (e) => {
        e.preventDefault();
        const into = Number(mergeInto.value);
        if (!Number.isInteger(into) || into < 1) {
          mergeInto.focus();
          return;
        }
        void act(
          [mergeInto, mergeButton],
          () => send<Gap>(`/api/gaps/${gap.id}/merge`, "POST", { into }),
          (target) => {
            toast(`Gap #${gap.id} merged into gap #${target.id}.`);
            navigate({ view: "gap", id: target.id });
          },
        );
      },
    },
    h("label", { for: "gap-merge-into" }, "Merge into another gap on this server"),
    h("div", { class: "inline-form" }, mergeInto, mergeButton),
  );

  // ---- reports: select to split or move
  const selected = new Set<number>();
  const selectionLabel = h("span", { class: "muted", id: "gap-selection", "aria-live": "polite" });
  const splitButton = h("button", { type: "button", class: "secondary", id: "gap-split" }, "Split into a new gap");
  const moveTo = gapPicker("gap-move-to", "Move the selected reports to gap number", others);
  const moveButton = h("button", { type: "button", class: "secondary", id: "gap-move" }, "Move");
  const selectionTools = h(
    "div",
    { class: "selection-bar" },
    selectionLabel,
    splitButton,
    h("span", { class: "inline-form" }, moveTo, moveButton),
  );
  const showSelection = () => {
    selectionLabel.textContent = selected.size
      ? `${selected.size} selected`
      : "Select reports to split them off or move them.";
    splitButton.disabled = selected.size === 0;
    moveButton.disabled = selected.size === 0;
  };
  splitButton.addEventListener("click", () => {
    const ids = [...selected];
    void act(
      [splitButton, moveButton],
      () => send<{ from: Gap; to: Gap }>(`/api/gaps/${gap.id}/split`, "POST", { report_ids: ids }),
      (r) => {
        toast(`${ids.length} report${ids.length === 1 ? "" : "s"} split into gap #${r.to.id}.`);
        navigate({ view: "gap", id: r.to.id });
      },
    );
  });
  moveButton.addEventListener("click", () => {
    const to = Number(moveTo.value);
    if (!Number.isInteger(to) || to < 1) {
      moveTo.focus();
      return;
    }
    const ids = [...selected];
    void act(
      [splitButton, moveButton, moveTo],
      async () => {
        for (const id of ids) await send(`/api/feedback/${id}/gap`, "POST", { gap_id: to });
      },
      () => {
        toast(`${ids.length} report${ids.length === 1 ? "" : "s"} moved to gap #${to}.`);
        reload();
      },
    );
  });

  const reportRow = (r: Report) => {
    const box = h("input", {
      type: "checkbox",
      class: "report-select",
      value: String(r.id),
      "aria-label": `Select report #${r.id}`,
    });
    box.addEventListener("change", () => {
      if (box.checked) selected.add(r.id);
      else selected.delete(r.id);
      showSelection();
    });
    return h(
      "li",
      { class: "gap-report", "data-id": r.id },
      box,
      h(
        "a",
        { class: "row", href: href({ view: "report", id: r.id }) },
        h(
          "span",
          { class: "row-main" },
          h("span", { class: "row-title" }, r.what_i_needed),
          h(
            "span",
            { class: "row-meta" },
            r.tool_name ? h("span", null, r.tool_name) : null,
            r.client_type ? h("span", null, r.client_type) : null,
            r.server_version ? h("span", null, `v${r.server_version}`) : null,
            h("time", { datetime: r.created_at, title: fullTime(r.created_at) }, when(r.created_at)),
            h("span", { class: "row-id" }, `#${r.id}`),
          ),
        ),
        h("span", { class: "badges" }, badge("resolution", r.resolution), badge("status", r.status)),
      ),
    );
  };
  const reports = h(
    "ul",
    { class: "rows gap-reports", id: "gap-report-list" },
    detail.reports_page.items.map(reportRow),
  );
  let reportsCursor = detail.reports_page.nextCursor;
  const more = h("button", { type: "button", class: "secondary", id: "gap-reports-more" }, "More reports");
  more.hidden = reportsCursor === null;
  more.addEventListener("click", () => {
    if (!reportsCursor) return;
    void act(
      [more],
      () =>
        getJson<Page<Report>>(
          `/api/feedback?gap_id=${gap.id}&limit=${REPORTS_PAGE}&cursor=${encodeURIComponent(reportsCursor ?? "")}`,
        ),
      (page) => {
        for (const r of page.items) reports.appendChild(reportRow(r));
        reportsCursor = page.nextCursor;
        more.hidden = reportsCursor === null;
      },
    );
  });
  showSelection();

  // ---- facets
  const maxTool = Math.max(1, ...detail.tools.map((t) => t.count));
  const mix = detail.resolution_mix;
  const mixRows: [string, number][] = [
    ["Blocked", mix.blocked],
    ["Partial", mix.partial],
    ["Worked around", mix.worked_around],
    ["Not said", mix.unspecified],
  ];
  const mixMax = Math.max(1, ...mixRows.map(([, n]) => n));

  const drafts = draftSection({
    drafts: detail.drafts,
    path: `/api/gaps/${gap.id}/draft`,
    serverName: gap.server_name,
    unavailable: {
      message: "This server cannot draft a PR from a whole gap yet. Open one of its reports and use Draft PR there.",
      known: gapDraftUnavailable,
      remember: () => {
        gapDraftUnavailable = true;
      },
    },
  });

  // ---- the gap's GitHub issue: a link when it has one, else a button that makes it (one per gap).
  const issue = gap.issue;
  const issueButton = h(
    "button",
    { type: "button", class: "secondary", id: "gap-issue-create" },
    "Create GitHub issue",
  );
  issueButton.addEventListener("click", () => {
    void act(
      [issueButton],
      () => send<{ url: string; created: boolean }>(`/api/gaps/${gap.id}/issue`, "POST", {}),
      (r) => {
        toast(r.created ? `Issue created: ${r.url}` : `This gap already has an issue: ${r.url}`);
        reload();
      },
    );
  });
  const issuePanel = h(
    "section",
    { class: "panel", id: "gap-issue" },
    h("h2", null, "Issue tracker"),
    issue
      ? h(
          "p",
          null,
          // The URL came from GitHub; only web links are followed.
          /^https?:\/\//.test(issue.url)
            ? h(
                "a",
                { href: issue.url, id: "gap-issue-link", target: "_blank", rel: "noopener noreferrer" },
                `${issue.repo}#${issue.number}`,
              )
            : h("span", { id: "gap-issue-link" }, `${issue.repo}#${issue.number}`),
          ` · ${issue.state}${issue.state_reason && issue.state_reason !== "reopened" ? ` (${issue.state_reason.replace(/_/g, " ")})` : ""}`,
          issue.synced_at ? ` · synced ${when(issue.synced_at)}` : "",
        )
      : gap.status === "duplicate"
        ? h("p", { class: "muted" }, "A merged gap gets no issue: open the gap it was merged into.")
        : h(
            "p",
            null,
            issueButton,
            h("span", { class: "muted" }, " in the repository the draft settings map this server to."),
          ),
  );

  const merged = gap.status === "duplicate" && gap.duplicate_of !== null;
  return h(
    "article",
    { class: "view view-gap", id: "gap-page", "data-id": gap.id },
    h(
      "nav",
      { class: "crumbs" },
      h("a", { href: backHref, id: "back-to-gaps", "aria-keyshortcuts": "Escape" }, "← Gaps"),
    ),
    h(
      "header",
      { class: "card-head gap-head-block" },
      h(
        "div",
        { class: "gap-heading" },
        h("h1", { id: "gap-title" }, gap.title),
        h(
          "p",
          { class: "muted gap-sub" },
          `Gap #${gap.id} · `,
          h(
            "a",
            { href: href({ view: "gaps", filters: { server_name: gap.server_name } }), id: "gap-server" },
            gap.server_name,
          ),
          gap.tool_name ? ` · ${gap.tool_name}` : "",
          ` · first seen ${when(gap.first_seen)} · last seen ${when(gap.last_seen)}`,
          gap.title_source === "medoid" ? " · title from its most representative report" : "",
        ),
      ),
      h(
        "span",
        { class: "badges" },
        scoreButton(gap),
        badge("gap-status", gap.status),
        gap.fixed_in ? h("span", { class: "badge" }, `fixed in ${gap.fixed_in}`) : null,
        gap.regressed ? h("span", { class: "badge badge-regressed" }, "Regressed") : null,
        gap.needs_review ? h("span", { class: "badge badge-review" }, "Needs review") : null,
      ),
    ),
    merged
      ? h(
          "p",
          { class: "state state-ok", id: "gap-merged-note" },
          "This gap was merged into ",
          h("a", { href: href({ view: "gap", id: gap.duplicate_of! }) }, `gap #${gap.duplicate_of}`),
          ".",
        )
      : null,
    h(
      "section",
      { class: "tiles", "aria-label": "Counts", id: "gap-tiles" },
      ...(
        [
          ["gap-tile-reports", "Reports", count(gap.reports)],
          ["gap-tile-sessions", "Sessions", count(gap.sessions)],
          ["gap-tile-blocked", "Blocked", `${percent(gap.blocked_share)} (${count(gap.blocked)})`],
          ["gap-tile-breadth", "Clients · models", `${count(gap.clients)} · ${count(gap.models)}`],
        ] as const
      ).map(([id, name, value]) =>
        h(
          "div",
          { class: "tile", id },
          h("span", { class: "tile-value" }, value),
          h("span", { class: "tile-label" }, name),
        ),
      ),
    ),
    detail.analysis ? analysisPanel(detail.analysis) : null,
    h(
      "div",
      { class: "card-grid" },
      h(
        "div",
        { class: "gap-col" },
        h(
          "section",
          { class: "panel", id: "gap-suggestions" },
          h("h2", null, "What agents suggested"),
          list(
            "gap-suggestion-list",
            detail.top_suggestions,
            (s) =>
              h(
                "span",
                { class: "suggestion" },
                h("span", { class: "agent-text" }, s.text),
                h("span", { class: "badge" }, `× ${count(s.count)}`),
              ),
            "No report made a suggestion.",
          ),
        ),
        h(
          "section",
          { class: "panel", id: "gap-reports" },
          h("h2", null, `Reports (${count(gap.reports)})`),
          selectionTools,
          reports,
          h("div", { class: "actions" }, more),
        ),
        h(
          "section",
          { class: "panel chart-panel", id: "gap-timeline", "aria-label": "Reports per day, last 30 days" },
          h("h2", null, "Reports per day (last 30 days, UTC)"),
          perDayChart(detail.timeline),
        ),
      ),
      h(
        "aside",
        { class: "gap-col" },
        h(
          "section",
          { class: "panel", id: "gap-actions" },
          h("h2", null, "Decide"),
          statusForm,
          noteForm,
          titleForm,
          mergeForm,
          others,
        ),
        h(
          "section",
          { class: "panel", id: "gap-facets" },
          h("h2", null, "Tools"),
          list(
            "gap-tools",
            detail.tools,
            (t) => facet(t.tool_name ?? "no tool named", t.count, maxTool),
            "None named.",
          ),
          h("h2", null, "Resolution"),
          h(
            "ul",
            { class: "facet-list" },
            mixRows.map(([n, v]) => h("li", null, facet(n, v, mixMax))),
          ),
          h("h2", null, "Clients"),
          list("gap-clients", detail.clients_seen, (c) => facet(c.client_type, c.count, gap.reports), "None reported."),
          h("h2", null, "Models"),
          list("gap-models", detail.models_seen, (m) => facet(m.agent_model, m.count, gap.reports), "None reported."),
        ),
      ),
    ),
    h(
      "section",
      { class: "panel", id: "gap-history" },
      h("h2", null, "History"),
      h("ol", { class: "history", id: "gap-history-list" }, detail.history.map(historyItem)),
    ),
    h(
      "section",
      { class: "panel", id: "gap-notes" },
      h("h2", null, "Notes on its reports"),
      list(
        "gap-note-list",
        detail.notes,
        (n) =>
          h(
            "span",
            null,
            h(
              "span",
              { class: "note-meta" },
              h("a", { href: href({ view: "report", id: n.report_id }) }, `Report #${n.report_id}`),
              ` · ${fullTime(n.created_at)}${n.author ? ` · ${n.author}` : ""}`,
            ),
            h("p", { class: "note-body" }, n.body),
          ),
        "No notes yet.",
      ),
    ),
    issuePanel,
    gapAutonomySection(detail, reload),
    drafts,
  );
}

export function createGapView(backHref: () => string): View {
  const el = h("div", { class: "card-slot" });
  let controller: AbortController | undefined;
  let id = 0;
  let shown: string | undefined;

  const load = (quiet: boolean) => {
    controller?.abort();
    controller = new AbortController();
    if (!quiet) mount(el, loading(`gap #${id}`));
    getJson<Detail>(`/api/gaps/${id}?limit=${REPORTS_PAGE}`, { signal: controller.signal }).then(
      (detail) => {
        // A live refresh redraws only when the gap changed, and never under someone typing.
        const sig = `${detail.reports}|${detail.last_seen}|${detail.history[0]?.id ?? 0}`;
        const busyHere =
          (el.contains(document.activeElement) && isTyping()) || el.querySelector(".report-select:checked");
        if (quiet && (sig === shown || busyHere)) return;
        shown = sig;
        const scroll = window.scrollY;
        mount(
          el,
          renderGap(detail, () => load(false), backHref()),
        );
        if (quiet) window.scrollTo({ top: scroll });
      },
      (err: unknown) => {
        if (isAbort(err) || quiet) return;
        const gone = err instanceof ApiError && err.status === 404;
        mount(
          el,
          h("nav", { class: "crumbs" }, h("a", { href: backHref() }, "← Gaps")),
          gone ? failure(new Error(`There is no gap #${id}.`), () => load(false)) : failure(err, () => load(false)),
        );
      },
    );
  };
  return {
    el,
    update(route: Route) {
      if (route.view !== "gap") return;
      id = route.id;
      shown = undefined;
      load(false);
    },
    refresh() {
      if (id) load(true);
    },
    dispose() {
      controller?.abort();
    },
  };
}

function isTyping(): boolean {
  const a = document.activeElement;
  return a instanceof HTMLInputElement || a instanceof HTMLTextAreaElement || a instanceof HTMLSelectElement;
}
