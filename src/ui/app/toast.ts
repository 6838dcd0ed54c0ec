/** Short status messages in a polite live region (errors use role=alert). */
import { byId, h } from "./dom.js";

export function toast(message: string, kind: "ok" | "error" = "ok"): void {
  const region = byId("toasts");
  const item = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : null }, message);
  region.appendChild(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
}
