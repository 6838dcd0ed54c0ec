/**
 * A gap's score with its formula: the number is a button whose title is the
 * formula (hover) and which opens a popover with the same text (click, tap,
 * keyboard); the popover is also the button's accessible description.
 */
import { h } from "../dom.js";
import type { Gap } from "../types.js";

let seq = 0;

export const formatScore = (score: number): string =>
  score >= 100 ? Math.round(score).toLocaleString() : score.toFixed(score >= 10 ? 1 : 2);

export function scoreButton(gap: Pick<Gap, "id" | "score" | "score_explain">): HTMLElement {
  const id = `score-explain-${gap.id}-${++seq}`;
  const popover = h(
    "div",
    { id, class: "score-pop", popover: "auto", role: "tooltip" },
    h("p", { class: "score-pop-title" }, "How this score is computed"),
    h("p", { class: "score-formula" }, gap.score_explain),
    h(
      "p",
      { class: "muted score-pop-hint" },
      "sessions × (1 + blocked share) × breadth (clients, models) × recency (half-life 14 days). No other weights.",
    ),
  );
  const button = h(
    "button",
    {
      type: "button",
      class: "score",
      title: gap.score_explain,
      "aria-describedby": id,
      popovertarget: id,
      "aria-label": `Score ${formatScore(gap.score)}, show the formula`,
      "data-score": gap.score,
    },
    formatScore(gap.score),
  );
  return h("span", { class: "score-wrap" }, button, popover);
}
