/** One report as a card: the agent's text, context, status, notes and draft PRs. */
import { getJson, request } from "../api.js";
import { h, mount } from "../dom.js";
import { errorMessage, fullTime, when } from "../format.js";
import { href, type Route } from "../router.js";
import { toast } from "../toast.js";
import {
  describeRedactions,
  type Gap,
  label,
  REPORT_STATUSES,
  type Note,
  type Report,
  type ReportDetail,
} from "../types.js";
import { badge } from "./badges.js";
import { draftSection } from "./draft.js";
import { failure, isAbort, loading } from "./states.js";
import type { View } from "./view.js";

async function patchReport(id: number, change: { status?: string; reviewed?: boolean }): Promise<Report> {
  const res = await request(`/api/feedback/${id}`, { method: "PATCH", body: change });
  return (await res.json()) as Report;
}

function textBlock(title: string, id: string, value: string | null): HTMLElement {
  return h(
    "section",
    { class: "field", id },
    h("h2", null, title),
    value === null || value.trim() === ""
      ? h("p", { class: "muted" }, "Not given.")
      : h("p", { class: "agent-text" }, value),
  );
}

function noteItem(note: Note): HTMLElement {
  return h(
    "li",
    { class: "note", "data-note-id": note.id },
    h(
      "div",
      { class: "note-meta" },
      h("time", { datetime: note.created_at, title: fullTime(note.created_at) }, fullTime(note.created_at)),
      note.author ? h("span", null, ` · ${note.author}`) : null,
    ),
    h("p", { class: "note-body" }, note.body),
  );
}

function renderCard(detail: ReportDetail, backHref: string): HTMLElement {
  let report: Report = detail;
  const badges = h("span", { class: "badges" });
  const statusSelect = h(
    "select",
    { id: "status-select", "aria-label": "Status" },
    REPORT_STATUSES.map((s) => h("option", { value: s }, label(s))),
  );
  const reviewButton = h("button", {
    type: "button",
    class: "primary",
    id: "toggle-reviewed",
    "aria-keyshortcuts": "r",
  });

  const showStatus = () => {
    mount(
      badges,
      badge("gap", report.gap_type),
      badge("resolution", report.resolution),
      badge("status", report.status),
    );
    statusSelect.value = report.status;
    reviewButton.textContent = report.reviewed ? "Reopen" : "Mark reviewed";
  };
  const change = (body: { status?: string; reviewed?: boolean }) => {
    statusSelect.disabled = true;
    reviewButton.disabled = true;
    patchReport(report.id, body)
      .then(
        (updated) => {
          report = updated;
          toast(`Report #${report.id} is now ${label(report.status).toLowerCase()}.`);
        },
        (err: unknown) => toast(errorMessage(err), "error"),
      )
      .finally(() => {
        statusSelect.disabled = false;
        reviewButton.disabled = false;
        showStatus();
      });
  };
  statusSelect.addEventListener("change", () => change({ status: statusSelect.value }));
  reviewButton.addEventListener("click", () => change({ reviewed: !report.reviewed }));
  showStatus();

  // Notes: append-only, oldest first.
  const notes = h("ol", { class: "notes", id: "notes-list" }, detail.notes.map(noteItem));
  const noNotes = h("p", { class: "muted", id: "notes-empty" }, "No notes yet.");
  noNotes.hidden = detail.notes.length > 0;
  const noteBody = h("textarea", {
    id: "note-body",
    name: "body",
    rows: 3,
    maxlength: 10000,
    placeholder: "Add a note (Ctrl+Enter to save)",
    "aria-label": "New note",
    "aria-keyshortcuts": "n",
  });
  const noteButton = h("button", { type: "submit", class: "primary", id: "add-note" }, "Add note");
  const noteForm = h(
    "form",
    {
      class: "note-form",
      onsubmit: (event) => {
        event.preventDefault();
        const body = noteBody.value.trim();
        if (!body) {
          noteBody.focus();
          return;
        }
        noteButton.disabled = true;
        request(`/api/feedback/${report.id}/notes`, { method: "POST", body: { body } })
          .then((res) => res.json() as Promise<Note>)
          .then(
            (note) => {
              notes.appendChild(noteItem(note));
              noNotes.hidden = true;
              noteBody.value = "";
              toast("Note added.");
            },
            (err: unknown) => toast(errorMessage(err), "error"),
          )
          .finally(() => {
            noteButton.disabled = false;
            noteBody.focus();
          });
      },
    },
    noteBody,
    h("div", { class: "actions" }, noteButton),
  );
  noteBody.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      noteForm.requestSubmit();
    }
  });

  const meta = (term: string, value: Node | string | null) => [h("dt", null, term), h("dd", null, value ?? "—")];
  // Server and tool link to every report about them.
  const filterLink = (key: "server_name" | "tool_name", value: string | null) =>
    value === null
      ? null
      : h("a", { href: href({ view: "list", filters: { [key]: value } }), id: `${key}-link` }, value);
  const sessionLink = detail.session_id
    ? h(
        "a",
        { href: href({ view: "list", filters: { session_id: detail.session_id } }), id: "session-link" },
        detail.session_id,
      )
    : null;

  // The gap this report belongs to: a link at once, its title and status once fetched.
  const gapLink =
    detail.gap_id === null
      ? null
      : h("a", { href: href({ view: "gap", id: detail.gap_id }), id: "report-gap-link" }, `Gap #${detail.gap_id}`);
  if (gapLink && detail.gap_id !== null) {
    getJson<Gap>(`/api/gaps/${detail.gap_id}?limit=1`).then(
      (gap) => {
        gapLink.textContent = `Gap #${gap.id}: ${gap.title}`;
        gapLink.after(" ", badge("gap-status", gap.status) ?? "");
      },
      () => undefined, // the link still works
    );
  }

  return h(
    "article",
    { class: "view view-card", id: "report-card", "data-id": detail.id },
    h(
      "nav",
      { class: "crumbs" },
      h("a", { href: backHref, id: "back-to-list", "aria-keyshortcuts": "Escape" }, "← Reports"),
    ),
    h(
      "header",
      { class: "card-head" },
      h("h1", null, `Report #${detail.id}`, h("span", { class: "muted card-server" }, ` · ${detail.server_name}`)),
      badges,
    ),
    h(
      "div",
      { class: "card-grid" },
      h(
        "div",
        { class: "panel card-text" },
        textBlock("What the agent needed", "field-needed", detail.what_i_needed),
        textBlock("What it tried", "field-tried", detail.what_i_tried),
        textBlock("Suggestion", "field-suggestion", detail.suggestion),
        textBlock("User goal", "field-goal", detail.user_goal),
      ),
      h(
        "aside",
        { class: "panel card-meta" },
        h("div", { class: "status-row" }, statusSelect, reviewButton),
        h(
          "dl",
          { class: "meta" },
          meta("Gap", gapLink ?? "Not grouped yet"),
          meta("Server", filterLink("server_name", detail.server_name)),
          meta("Version", detail.server_version),
          meta("Tool", filterLink("tool_name", detail.tool_name)),
          meta("Resolution", detail.resolution ? label(detail.resolution) : null),
          meta("Model", detail.agent_model),
          meta("Client", detail.client_type),
          meta("Session", sessionLink),
          meta(
            "Reported",
            h("time", { datetime: detail.created_at }, `${fullTime(detail.created_at)} (${when(detail.created_at)})`),
          ),
          meta("Updated", detail.updated_at ? fullTime(detail.updated_at) : null),
        ),
        h("h2", null, "Redacted before storage"),
        // Which rules replaced what (never the text itself: it was not stored).
        (detail.redactions ?? []).length
          ? h(
              "ul",
              { class: "redactions", id: "redactions" },
              (detail.redactions ?? []).map((r) => h("li", null, describeRedactions([r]))),
            )
          : h("p", { class: "muted", id: "redactions" }, "Nothing."),
        h("h2", null, "Tools the agent saw"),
        detail.tools_available.length
          ? h(
              "ul",
              { class: "tool-chips", id: "tools-seen" },
              detail.tools_available.map((t) => h("li", { class: "chip" }, t)),
            )
          : h("p", { class: "muted" }, "Not reported."),
      ),
    ),
    h("section", { class: "panel", id: "notes" }, h("h2", null, "Notes"), noNotes, notes, noteForm),
    draftSection({
      drafts: detail.drafts,
      path: `/api/feedback/${detail.id}/draft-pr`,
      serverName: detail.server_name,
    }),
  );
}

export function createCardView(backHref: () => string): View {
  const el = h("div", { class: "card-slot" });
  let controller: AbortController | undefined;
  const load = (id: number) => {
    controller?.abort();
    controller = new AbortController();
    mount(el, loading(`report #${id}`));
    getJson<ReportDetail>(`/api/feedback/${id}`, { signal: controller.signal }).then(
      (detail) => mount(el, renderCard(detail, backHref())),
      (err: unknown) => {
        if (!isAbort(err))
          mount(
            el,
            h("nav", { class: "crumbs" }, h("a", { href: backHref() }, "← Reports")),
            failure(err, () => load(id)),
          );
      },
    );
  };
  return {
    el,
    update(route: Route) {
      if (route.view === "report") load(route.id);
    },
    dispose() {
      controller?.abort();
    },
  };
}
