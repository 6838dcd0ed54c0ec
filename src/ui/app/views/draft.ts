/**
 * The Draft PR part of a report card: the PRs drafted so far (history), the
 * Draft PR / Re-draft button, and a live progress view fed by the
 * POST /api/feedback/:id/draft-pr Server-Sent Events stream.
 */
import { request } from "../api.js";
import { h, mount } from "../dom.js";
import { errorMessage, fullTime } from "../format.js";
import { readSse } from "../sse.js";
import { toast } from "../toast.js";
import type { Draft, ReportDetail } from "../types.js";

function draftItem(draft: Draft): HTMLElement {
  const title = draft.title ?? `Draft on ${draft.branch}`;
  return h(
    "li",
    { class: "draft", "data-draft-id": draft.id },
    draft.url ? h("a", { href: draft.url, target: "_blank", rel: "noopener noreferrer", class: "draft-link" }, title) : h("span", null, title),
    h(
      "div",
      { class: "muted draft-meta" },
      [
        fullTime(draft.created_at),
        draft.kind === "pull_request" ? `PR${draft.number ? ` #${draft.number}` : ""}${draft.repo ? ` in ${draft.repo}` : ""}` : "local commit",
        `branch ${draft.branch}`,
        `${draft.provider}/${draft.model}`,
        draft.files.length ? `${draft.files.length} file${draft.files.length === 1 ? "" : "s"}` : null,
      ]
        .filter(Boolean)
        .join(" · "),
    ),
  );
}

/** Text for one progress event, from whatever fields the server sent. */
function describe(data: unknown): string {
  if (typeof data === "string") return data;
  if (data && typeof data === "object") {
    const o = data as Record<string, unknown>;
    for (const key of ["message", "label", "text", "detail", "step"]) {
      if (typeof o[key] === "string" && o[key] !== "") return o[key];
    }
  }
  return JSON.stringify(data);
}

function parse(data: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return data;
  }
}

export function draftSection(detail: ReportDetail): HTMLElement {
  const history = h("ol", { class: "drafts", id: "draft-history" }, detail.drafts.map(draftItem));
  const none = h("p", { class: "muted", id: "drafts-empty" }, "No draft PRs yet.");
  none.hidden = detail.drafts.length > 0;
  const progress = h("ol", { class: "progress", id: "draft-progress", "aria-live": "polite" });
  const outcome = h("div", { id: "draft-outcome" });
  const dryRun = h("input", { type: "checkbox", id: "draft-dry-run" });
  const button = h("button", { type: "button", class: "primary", id: "draft-button" }, detail.drafts.length ? "Re-draft" : "Draft PR");
  const cancel = h("button", { type: "button", class: "secondary", id: "draft-cancel", hidden: true }, "Stop watching");
  let controller: AbortController | undefined;

  const line = (kind: string, text: string) => progress.appendChild(h("li", { class: `progress-${kind}` }, text));

  const run = async () => {
    controller = new AbortController();
    button.disabled = true;
    cancel.hidden = false;
    mount(progress);
    mount(outcome);
    progress.setAttribute("aria-busy", "true");
    let finished = false;
    try {
      const res = await request(`/api/feedback/${detail.id}/draft-pr`, {
        method: "POST",
        body: dryRun.checked ? { dry_run: true } : {},
        accept: "text/event-stream",
        signal: controller.signal,
      });
      for await (const ev of readSse(res, controller.signal)) {
        const data = parse(ev.data);
        if (ev.event === "step") line("step", describe(data));
        else if (ev.event === "detail") line("detail", describe(data));
        else if (ev.event === "error") {
          finished = true;
          line("error", describe(data));
          mount(outcome, h("p", { class: "state-error", role: "alert" }, `Drafting failed: ${describe(data)}`));
        } else if (ev.event === "done") {
          finished = true;
          const done = (data && typeof data === "object" ? data : {}) as { url?: unknown; draft?: Draft };
          const url = typeof done.url === "string" ? done.url : done.draft?.url ?? null;
          line("done", url ? "Draft PR opened." : "Finished.");
          mount(
            outcome,
            url
              ? h("p", { class: "state-ok" }, "Pull request: ", h("a", { href: url, target: "_blank", rel: "noopener noreferrer", id: "draft-pr-link" }, url))
              : h("p", { class: "state-ok" }, describe(data)),
          );
          if (done.draft) {
            history.appendChild(draftItem(done.draft));
            none.hidden = true;
          }
          button.textContent = "Re-draft";
        }
      }
      if (!finished && !controller.signal.aborted) line("error", "The server closed the stream before finishing.");
    } catch (err) {
      if (!(err instanceof DOMException && err.name === "AbortError")) {
        line("error", errorMessage(err));
        toast(`Draft PR failed: ${errorMessage(err)}`, "error");
      }
    } finally {
      progress.setAttribute("aria-busy", "false");
      button.disabled = false;
      cancel.hidden = true;
    }
  };
  button.addEventListener("click", () => void run());
  cancel.addEventListener("click", () => controller?.abort());

  return h(
    "section",
    { class: "panel", id: "drafts" },
    h("h2", null, "Draft PRs"),
    none,
    history,
    h("div", { class: "actions draft-actions" }, h("label", { class: "check" }, dryRun, " Dry run (no PR)"), cancel, button),
    progress,
    outcome,
  );
}
