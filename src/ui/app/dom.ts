/**
 * The only way the dashboard builds DOM. Strings always become text nodes and
 * attributes are set one by one with setAttribute, so agent-written text can
 * never become markup: there is deliberately no HTML-string path here.
 */

export type Child = Node | string | number | null | undefined | false | readonly Child[];
type Listener = (event: Event) => void;
export type Props = Record<string, string | number | boolean | Listener | null | undefined>;

const SVG_NS = "http://www.w3.org/2000/svg";

function applyProps(el: Element, props: Props | null | undefined): void {
  if (!props) return;
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) {
      // Event handlers are functions only: an "on…" attribute string would be inline script.
      if (typeof value !== "function") throw new TypeError(`Refusing to set the ${name} attribute from a string.`);
      el.addEventListener(name.slice(2).toLowerCase(), value);
      continue;
    }
    if (typeof value === "function") throw new TypeError(`${name} is not an event handler.`);
    if (name === "href" && typeof value === "string") {
      el.setAttribute("href", safeHref(value));
      continue;
    }
    if (name === "value" && "value" in el) {
      (el as HTMLInputElement).value = String(value);
      continue;
    }
    if (name === "checked" && el instanceof HTMLInputElement) {
      el.checked = value === true;
      continue;
    }
    el.setAttribute(name, value === true ? "" : String(value));
  }
}

function appendChildren(el: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) appendChildren(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Create an HTML element: `h("p", {class: "x"}, "text", otherNode)`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  applyProps(el, props);
  appendChildren(el, children);
  return el;
}

/** Create an SVG element (charts). */
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  props?: Props | null,
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  applyProps(el, props);
  appendChildren(el, children);
  return el;
}

/** Replace everything inside `el`. */
export function mount(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  appendChildren(el, children);
}

/**
 * Links only go to this page's routes or to http(s) URLs; anything else
 * (javascript:, data:, vbscript:) becomes an inert "#".
 */
export function safeHref(url: string): string {
  // A path starting "/\" is read by browsers as "//host" (off-site): only plain same-site paths pass as they are.
  if (url.startsWith("#") || (url.startsWith("/") && !url.startsWith("//") && !url.startsWith("/\\"))) return url;
  try {
    const parsed = new URL(url);
    if (parsed.protocol === "https:" || parsed.protocol === "http:") return parsed.href;
  } catch {
    // not a URL
  }
  return "#";
}

export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`The page is missing #${id}.`);
  return el as T;
}

/** Move focus `delta` steps among the elements matching `selector` (j/k in lists); from outside them, to the first. */
export function moveFocus(selector: string, delta: 1 | -1): void {
  const items = [...document.querySelectorAll<HTMLElement>(selector)];
  if (items.length === 0) return;
  const at = items.indexOf(document.activeElement as HTMLElement);
  items[Math.min(items.length - 1, Math.max(0, at === -1 ? 0 : at + delta))]?.focus();
}
