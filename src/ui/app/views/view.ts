import type { Route } from "../router.js";

/** A screen of the dashboard. `update` handles route changes within the same view. */
export interface View {
  el: HTMLElement;
  update(route: Route): void;
  /** New data on the server (see live.ts): redraw without a spinner, keeping what the user is typing. */
  refresh?(): void;
  dispose?(): void;
}
