/**
 * Keyset paging for the list views: a stack of the cursors that led to the
 * page on screen (the back button pops it), the next page's cursor from the
 * API, and the pager bar (back, page number, forward).
 */
import { h } from "../dom.js";

export interface CursorPager {
  /** The pager bar. */
  el: HTMLElement;
  /** The cursor of the page to fetch (undefined: the first page). */
  readonly cursor: string | undefined;
  /** Whether the first page is the one on screen. */
  readonly atFirst: boolean;
  /** A page arrived: remember where the next one starts and update the bar. */
  loaded(nextCursor: string | null): void;
  /** Back to the first page when the filters changed; the same filters (e.g. back from a detail page) stay put. */
  filter(filters: object): void;
}

export function createCursorPager(options: {
  /** The element ids of the back and forward buttons and of the page number. */
  ids: { back: string; forward: string; where: string };
  labels: { back: string; forward: string };
  /** Called after the cursor moved: fetch the page. */
  onPage: () => void;
  /** Scrolled into view on each page turn. */
  top: () => HTMLElement;
}): CursorPager {
  let cursors: (string | undefined)[] = [];
  let cursor: string | undefined;
  let nextCursor: string | null = null;
  let filterKey: string | undefined;

  const page = (direction: 1 | -1) => {
    if (direction === 1) {
      if (nextCursor === null) return;
      cursors.push(cursor);
      cursor = nextCursor;
    } else {
      if (cursors.length === 0) return;
      cursor = cursors.pop();
    }
    options.onPage();
    options.top().scrollIntoView({ block: "start" });
  };
  const back = h(
    "button",
    { type: "button", class: "secondary", id: options.ids.back, onclick: () => page(-1) },
    options.labels.back,
  );
  const forward = h(
    "button",
    { type: "button", class: "secondary", id: options.ids.forward, onclick: () => page(1) },
    options.labels.forward,
  );
  const where = h("span", { id: options.ids.where, class: "muted", "aria-live": "polite" });
  const setBar = () => {
    back.disabled = cursors.length === 0;
    forward.disabled = nextCursor === null;
    where.textContent = `Page ${cursors.length + 1}`;
  };
  setBar();

  return {
    el: h("nav", { class: "pager", "aria-label": "Pages" }, back, where, forward),
    get cursor() {
      return cursor;
    },
    get atFirst() {
      return cursors.length === 0;
    },
    loaded(next) {
      nextCursor = next;
      setBar();
    },
    filter(filters) {
      const key = JSON.stringify(filters);
      if (key !== filterKey) {
        filterKey = key;
        cursors = [];
        cursor = undefined;
      }
    },
  };
}
