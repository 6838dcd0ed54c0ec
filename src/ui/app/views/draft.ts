/**
 * The Draft PR part of a report card and of a gap page: the PRs drafted so
 * far (history), the Draft PR / Re-draft button, and a live progress view fed
 * by a Server-Sent Events stream (POST /api/feedback/:id/draft-pr for a
 * report, POST /api/gaps/:id/draft for a gap; see docs/draft-pr.md).
 */
import type { DraftEvent, DraftResultPayload as DraftResult } from "../../../draft/events.js";
import { ApiError, request } from "../api.js";
import { h, mount } from "../dom.js";
import { errorMessage, fullTime } from "../format.js";
import { readSse } from "../sse.js";
import { toast } from "../toast.js";
import type { Draft } from "../types.js";

type Payload<T extends DraftEvent["type"]> = Omit<Extract<DraftEvent, { type: T }>, "type">;
type StepData = Payload<"step">;
type DetailData = Payload<"detail">;
type ErrorData = Payload<"error">;

/**
 * The pipeline's sentence ends "or pass --repo", which is for the CLI; in the dashboard
 * the fix is the settings view.
 */
function noRepoMessage(server: string): string {
  return `No GitHub repository is configured for server "${server}". In Settings, under "Draft pull requests", set a default repository or add this server under "Per-server repositories", then draft again.`;
}

const STEP_LABELS: Record<string, string> = {
  settings: "Settings",
  read_repo: "Read the repository",
  select_files: "Choose files",
  prompt: "Build the prompt",
  model: "Ask the model",
  validate: "Check the change",
  commit: "Commit to a branch",
  pull_request: "Open the draft PR",
  record: "Record it",
};

function draftItem(draft: Draft): HTMLElement {
  const title = draft.title ?? `Draft on ${draft.branch}`;
  const where =
    draft.kind === "pull_request"
      ? `PR${draft.number ? ` #${draft.number}` : ""}${draft.repo ? ` in ${draft.repo}` : ""}`
      : `local commit${draft.commit_sha ? ` ${draft.commit_sha.slice(0, 7)}` : ""}`;
  return h(
    "li",
    { class: "draft", "data-draft-id": draft.id },
    draft.url
      ? h("a", { href: draft.url, target: "_blank", rel: "noopener noreferrer", class: "draft-link" }, title)
      : h("span", null, title),
    h(
      "div",
      { class: "muted draft-meta" },
      [
        fullTime(draft.created_at),
        where,
        `branch ${draft.branch}`,
        `${draft.provider} ${draft.model}`,
        draft.files.length ? `${draft.files.length} file${draft.files.length === 1 ? "" : "s"}` : null,
      ]
        .filter(Boolean)
        .join(" · "),
    ),
  );
}

function parse<T>(data: string): T | undefined {
  try {
    return JSON.parse(data) as T;
  } catch {
    return undefined;
  }
}

function resultView(result: DraftResult): HTMLElement {
  const files = h(
    "ul",
    { class: "draft-files" },
    result.files.map((f) =>
      h("li", null, h("span", { class: `badge badge-action-${f.action}` }, f.action), " ", h("code", null, f.path)),
    ),
  );
  if (result.url) {
    return h(
      "div",
      { class: "state-ok draft-result" },
      h(
        "p",
        null,
        "Draft pull request opened: ",
        h("a", { href: result.url, target: "_blank", rel: "noopener noreferrer", id: "draft-pr-link" }, result.url),
      ),
      h("p", { class: "muted" }, result.title),
      files,
    );
  }
  return h(
    "div",
    { class: "draft-result" },
    h(
      "p",
      { class: "state-ok" },
      result.dry_run ? "Dry run finished: nothing was pushed." : `Committed on branch ${result.branch ?? "?"}.`,
    ),
    h("p", { class: "muted" }, result.title),
    files,
    result.diff ? h("pre", { class: "diff", id: "draft-diff", tabindex: 0 }, result.diff) : null,
  );
}

export interface DraftSectionOptions {
  drafts: Draft[];
  /** The POST route that streams the draft. */
  path: string;
  /** The server the draft is for, named when no repository is configured for it. */
  serverName: string;
  /**
   * When set, a 404 for the route itself (not for the thing drafted) or a
   * "not configured" answer hides the button and shows this sentence instead:
   * for servers that do not offer this kind of draft.
   */
  unavailable?: { message: string; known: boolean; remember: () => void };
}

/** 404 with the router's own code means "no such route", or the server says drafting is off. */
function draftingUnavailable(err: unknown): boolean {
  return (
    err instanceof ApiError &&
    ((err.status === 404 && err.code === "not_found") || /not_configured|drafts_disabled/.test(err.code))
  );
}

export function draftSection(options: DraftSectionOptions): HTMLElement {
  const history = h("ol", { class: "drafts", id: "draft-history" }, options.drafts.map(draftItem));
  const none = h("p", { class: "muted", id: "drafts-empty" }, "No draft PRs yet.");
  none.hidden = options.drafts.length > 0;
  const meter = h("progress", { id: "draft-meter", max: 9, value: 0 });
  const status = h("p", { id: "draft-status", class: "draft-status", role: "status" });
  const log = h("ol", { class: "progress", id: "draft-progress" });
  const live = h("div", { class: "draft-live", hidden: true }, h("div", { class: "meter-row" }, meter, status), log);
  const outcome = h("div", { id: "draft-outcome" });
  const dryRun = h("input", { type: "checkbox", id: "draft-dry-run" });
  const button = h(
    "button",
    { type: "button", class: "primary", id: "draft-button" },
    options.drafts.length ? "Re-draft" : "Draft PR",
  );
  const unavailableNote = h(
    "p",
    { class: "muted", id: "draft-unavailable", hidden: true },
    options.unavailable?.message ?? "",
  );
  const stop = h("button", { type: "button", class: "secondary", id: "draft-stop", hidden: true }, "Stop");
  let controller: AbortController | undefined;

  const actions = h(
    "div",
    { class: "actions draft-actions" },
    h("label", { class: "check" }, dryRun, " Dry run (show the diff, push nothing)"),
    stop,
    button,
  );
  const line = (kind: string, text: string) => log.appendChild(h("li", { class: `progress-${kind}` }, text));
  const fail = (message: string, code?: string) => {
    line("error", message);
    status.textContent = "Failed.";
    mount(
      outcome,
      h(
        "div",
        { class: "state state-error", role: "alert" },
        h("p", { class: "state-title" }, "Drafting failed"),
        h("p", null, message),
        code && /settings|token|key|repo|provider|configured/i.test(`${code} ${message}`)
          ? h("a", { href: "#/settings" }, "Open the draft-PR settings")
          : null,
      ),
    );
  };

  const run = async () => {
    controller = new AbortController();
    const { signal } = controller;
    button.disabled = true;
    stop.hidden = false;
    live.hidden = false;
    mount(log);
    mount(outcome);
    meter.value = 0;
    status.textContent = "Starting…";
    live.setAttribute("aria-busy", "true");
    let finished = false;
    try {
      const res = await request(options.path, {
        method: "POST",
        body: dryRun.checked ? { dry_run: true } : {},
        accept: "text/event-stream",
        signal,
      });
      for await (const ev of readSse(res, signal)) {
        if (ev.event === "step") {
          const data = parse<StepData>(ev.data);
          if (!data) continue;
          meter.max = data.total;
          meter.value = data.index - 1;
          status.textContent = `Step ${data.index} of ${data.total}: ${Object.hasOwn(STEP_LABELS, data.step) ? STEP_LABELS[data.step] : data.step}`;
          line("step", data.message);
        } else if (ev.event === "detail") {
          const data = parse<DetailData>(ev.data);
          if (data) line("detail", data.message);
        } else if (ev.event === "error") {
          finished = true;
          const data = parse<ErrorData>(ev.data);
          fail(
            data?.code === "no_repo_configured"
              ? noRepoMessage(options.serverName)
              : (data?.message ?? "The draft failed."),
            data?.code,
          );
        } else if (ev.event === "done") {
          finished = true;
          const result = parse<DraftResult>(ev.data);
          if (!result) continue;
          meter.value = meter.max;
          status.textContent = result.dry_run ? "Dry run done." : "Done.";
          line("done", result.url ? "Draft PR opened." : result.dry_run ? "Dry run complete." : "Committed.");
          mount(outcome, resultView(result));
          if (result.draft) {
            history.appendChild(draftItem(result.draft));
            none.hidden = true;
            button.textContent = "Re-draft";
          }
        }
      }
      if (!finished && !signal.aborted) fail("The server closed the stream before the draft finished.");
      if (signal.aborted) {
        line("error", "Stopped. The server cancels the draft and deletes any branch it created.");
        status.textContent = "Stopped.";
      }
    } catch (err) {
      if (signal.aborted) {
        line("error", "Stopped.");
        status.textContent = "Stopped.";
      } else if (options.unavailable && draftingUnavailable(err)) {
        options.unavailable.remember();
        showUnavailable();
      } else {
        fail(errorMessage(err));
        toast(`Draft PR failed: ${errorMessage(err)}`, "error");
      }
    } finally {
      live.setAttribute("aria-busy", "false");
      button.disabled = false;
      stop.hidden = true;
    }
  };
  const showUnavailable = () => {
    live.hidden = true;
    mount(outcome);
    actions.hidden = true;
    unavailableNote.hidden = false;
  };
  button.addEventListener("click", () => void run());
  if (options.unavailable?.known) showUnavailable();
  stop.addEventListener("click", () => controller?.abort());

  return h(
    "section",
    { class: "panel", id: "drafts" },
    h("h2", null, "Draft PRs"),
    none,
    history,
    actions,
    unavailableNote,
    live,
    outcome,
  );
}
