/**
 * A gap's autonomy panel: the changes the guardrails kept as suggestions
 * (confidence, rationale, problems, the diff, the verification output: all model
 * or command text, rendered as text) and the rollback of its open draft PR
 * (POST /api/gaps/:id/draft/rollback: close the PR and delete its branch).
 */
import type { GapDetail, GapSuggestion } from "../../../store/index.js";
import { request } from "../api.js";
import { h } from "../dom.js";
import { errorMessage, fullTime } from "../format.js";
import { toast } from "../toast.js";

const REASONS: Record<string, string> = {
  low_confidence: "Low confidence",
  over_scope: "Over the scope limits",
  verification_failed: "Verification failed",
  verification_unavailable: "Verification could not run",
};

function suggestionItem(s: GapSuggestion): HTMLElement {
  const d = s.details as {
    title?: string;
    confidence?: number;
    rationale?: string;
    problems?: string[];
    diff?: string;
    verification?: { exit_code: number | null; output: string; timed_out: boolean };
  };
  return h(
    "li",
    { class: "suggestion", "data-reason": s.reason },
    h("p", null, h("strong", null, REASONS[s.reason] ?? s.reason), ` · ${fullTime(s.created_at)}`),
    d.title ? h("p", { class: "suggestion-title" }, d.title) : null,
    typeof d.confidence === "number"
      ? h(
          "p",
          { class: "muted" },
          `Model confidence ${d.confidence.toFixed(2)}${d.rationale ? `: ${d.rationale}` : ""}`,
        )
      : null,
    d.problems?.length
      ? h(
          "ul",
          null,
          d.problems.map((p) => h("li", null, p)),
        )
      : null,
    d.diff ? h("details", null, h("summary", null, "Diff"), h("pre", { class: "diff" }, d.diff)) : null,
    d.verification
      ? h(
          "details",
          null,
          h(
            "summary",
            null,
            `Verification output (exit code ${d.verification.exit_code ?? "none"}${d.verification.timed_out ? ", timed out" : ""})`,
          ),
          h("pre", { class: "verify-output" }, d.verification.output),
        )
      : null,
  );
}

export function gapAutonomySection(detail: GapDetail, reload: () => void): HTMLElement | null {
  const suggestions = detail.suggestions ?? [];
  const open = detail.open_draft_id ?? null;
  if (suggestions.length === 0 && open === null) return null;
  const rollback =
    open === null
      ? null
      : h(
          "button",
          {
            type: "button",
            class: "secondary",
            id: "gap-rollback",
            onclick: async (ev: Event) => {
              const button = ev.currentTarget as HTMLButtonElement;
              // Two clicks, no dialog: the first says what the second will do.
              if (button.dataset.armed !== "yes") {
                button.dataset.armed = "yes";
                button.textContent = "Click again to close the PR and delete its branch on GitHub";
                return;
              }
              button.disabled = true;
              try {
                await request(`/api/gaps/${detail.id}/draft/rollback`, { method: "POST", body: {} });
                toast("Draft PR closed and its branch deleted.");
                reload();
              } catch (err) {
                toast(errorMessage(err), "error");
                button.disabled = false;
              }
            },
          },
          "Roll back the open draft PR",
        );
  return h(
    "section",
    { class: "panel", id: "gap-autonomy" },
    h("h2", null, "Autonomy"),
    rollback ? h("div", { class: "actions" }, rollback) : null,
    suggestions.length
      ? h("ol", { class: "suggestions", id: "gap-suggestions" }, suggestions.map(suggestionItem))
      : h("p", { class: "muted" }, "No suggestions kept on this gap."),
  );
}
