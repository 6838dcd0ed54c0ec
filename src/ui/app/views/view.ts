import type { Route } from "../router.js";

/** A screen of the dashboard. `update` handles route changes within the same view. */
export interface View {
  el: HTMLElement;
  update(route: Route): void;
  dispose?(): void;
}
