/** Loading, empty and error states shared by every view. */
import { h, mount } from "../dom.js";
import { errorMessage } from "../format.js";

export const loading = (what: string): HTMLElement =>
  h(
    "div",
    { class: "state state-loading", role: "status" },
    h("span", { class: "spinner", "aria-hidden": "true" }),
    `Loading ${what}…`,
  );

export const empty = (title: string, hint?: string): HTMLElement =>
  h(
    "div",
    { class: "state state-empty" },
    h("p", { class: "state-title" }, title),
    hint ? h("p", { class: "muted" }, hint) : null,
  );

export const failure = (err: unknown, retry: () => void): HTMLElement =>
  h(
    "div",
    { class: "state state-error", role: "alert" },
    h("p", { class: "state-title" }, "Something went wrong"),
    h("p", null, errorMessage(err)),
    h("button", { type: "button", class: "secondary", onclick: retry }, "Try again"),
  );

export const isAbort = (err: unknown): boolean => err instanceof DOMException && err.name === "AbortError";

/**
 * A list's page failed to load: an abort (a newer load took over) changes
 * nothing; otherwise the results stop being busy and, unless the load was a
 * quiet refresh (which keeps the rows on screen), show the error with a retry.
 */
export function showLoadFailure(results: HTMLElement, err: unknown, quiet: boolean, retry: () => void): void {
  if (isAbort(err)) return;
  results.setAttribute("aria-busy", "false");
  if (!quiet) mount(results, failure(err, retry));
}
