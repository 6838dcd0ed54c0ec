import { h } from "../dom.js";
import { label } from "../types.js";

export const badge = (
  kind: "gap" | "resolution" | "status" | "gap-status",
  value: string | null,
): HTMLElement | null =>
  value === null ? null : h("span", { class: `badge badge-${kind} badge-${kind}-${value}` }, label(value));
