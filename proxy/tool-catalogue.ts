/**
 * What the proxy knows of upstream's tools, and the feedback tool it offers
 * beside them: the names upstream listed, whether that list is complete and
 * still fresh, the name the feedback tool goes by (a collision with an
 * upstream tool of that name moves it to the collision name, for every later
 * session too), and the edits to a `tools/list` answer (the tool appended to
 * the first page; the list is ours alone when upstream has no tools).
 *
 * Freshness is a deadline rather than a flag: a complete listing stays fresh
 * until `notifications/tools/list_changed` (or, where a protocol revision
 * gives a listing a lifetime, until `freshForMs` runs out).
 */
import { feedbackToolDefinition } from "../src/feedback/index.js";
import { isObject } from "./jsonrpc.js";
import { type ParamHeader, paramHeadersOf } from "./param-headers.js";
import type { Log } from "./log.js";

export interface CatalogueConfig {
  /** Name to offer the feedback tool under. */
  toolName: string;
  /** Name to use instead when upstream already has a tool called `toolName`. */
  collisionToolName: string;
  /** Shared by every session of one proxy: once one finds the name taken, later ones start with the other. */
  learned?: { toolName?: string } | undefined;
  log: Log;
  /** The client may hold a list naming the feedback tool as it was: tell it to ask again. */
  onRenamed: () => void;
  now?: () => number;
}

/** What upstream's initialize result said about tools: nothing yet, none at all, or some. */
export type ToolsCapability = "unknown" | "absent" | "present";

/** One `tools/list` answer, as the catalogue learns from it. */
export interface ToolsPage {
  names: string[];
  /** No `nextCursor`: with the pages before it, this is every tool. */
  last: boolean;
  /** How long the listing may be trusted, when the protocol says; otherwise until list_changed. */
  freshForMs?: number | undefined;
}

/** Fetch one page of upstream's tool list with a request of the proxy's own; `undefined` when it failed. */
export type PageFetcher = (cursor: string | undefined) => Promise<Record<string, unknown> | undefined>;

const MAX_TOOL_PAGES = 100;
/** Shortest time a complete listing is trusted for, whatever ttl it came with, in ms. */
const MIN_TRUST_MS = 1_000;

export function pageOf(result: Record<string, unknown>): ToolsPage & { tools: unknown[] } {
  const tools: unknown[] = Array.isArray(result.tools) ? result.tools : [];
  const ttl = result.ttlMs;
  return {
    tools,
    names: tools.flatMap((t) => (isObject(t) && typeof t.name === "string" ? [t.name] : [])),
    last: typeof result.nextCursor !== "string",
    // 2026-07-28 lists say how long they may be cached: the catalogue trusts them as long.
    freshForMs: typeof ttl === "number" && Number.isFinite(ttl) && ttl >= 0 ? ttl : undefined,
  };
}

/**
 * A tools/list page the proxy builds itself. A 2026-07-28 result needs
 * `resultType` and the caching fields; `ttlMs: 0` (ask again every time) is
 * always true of a list the proxy may have to change.
 */
function ownPage(tools: unknown[], modern: boolean): Record<string, unknown> {
  return modern ? { resultType: "complete", tools, ttlMs: 0, cacheScope: "private" } : { tools };
}

export class ToolCatalogue {
  private offeredName: string;
  private capability: ToolsCapability = "unknown";
  private names = new Set<string>();
  /** Tools whose input schema marks arguments as `Mcp-Param-*` headers (2026-07-28), by name. */
  private marks = new Map<string, ParamHeader[]>();
  /** How much of the list `names` holds: nothing seen yet, some pages (or a failed list), or all of it. */
  private listing: "none" | "partial" | "complete" = "none";
  private freshUntil = 0;
  /** The client has been handed a list with the feedback tool in it. */
  private offeredToClient = false;
  private refreshing?: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly config: CatalogueConfig) {
    this.offeredName = config.learned?.toolName ?? config.toolName;
    this.now = config.now ?? Date.now;
  }

  /** The name the feedback tool is offered under right now. */
  get toolName(): string {
    return this.offeredName;
  }

  /** The tool names upstream last listed (without the feedback tool). */
  get upstreamTools(): string[] {
    return [...this.names];
  }

  /** The `Mcp-Param-*` marks of an upstream tool (none when it has none or was never listed). */
  paramHeaders(name: string): ParamHeader[] {
    return this.marks.get(name) ?? [];
  }

  private learnMarks(tools: unknown[], replace: boolean): void {
    if (replace) this.marks = new Map();
    for (const t of tools) {
      if (!isObject(t) || typeof t.name !== "string") continue;
      const marks = paramHeadersOf(t.inputSchema);
      if (marks.length > 0) this.marks.set(t.name, marks);
      else this.marks.delete(t.name);
    }
  }

  /** Upstream listed a tool of this name (and it is not the one the proxy answers). */
  isUpstreamTool(name: string): boolean {
    return name !== this.offeredName && this.names.has(name);
  }

  setCapability(hasTools: boolean): void {
    this.capability = hasTools ? "present" : "absent";
  }

  /** Upstream has no tools capability: `tools/list` is answered by the proxy alone. */
  get upstreamHasNoTools(): boolean {
    return this.capability === "absent";
  }

  /** Whether a name missing from the catalogue is really missing upstream. */
  get settled(): boolean {
    return this.capability === "absent" || (this.listing === "complete" && this.now() < this.freshUntil);
  }

  /** Upstream has tools but none were ever listed: a call of the feedback tool might be upstream's own. */
  get unlisted(): boolean {
    return this.capability === "present" && this.listing === "none";
  }

  /** Worth listing with requests of the proxy's own (the handshake is done and the answer would teach something). */
  get canRefresh(): boolean {
    return this.capability !== "unknown";
  }

  /** `notifications/tools/list_changed` went by. */
  listChanged(): void {
    this.freshUntil = 0;
  }

  /** The answer to a `tools/list` the proxy serves alone (upstream has no tools). */
  ownList(cursor: unknown, modern = false): { result: Record<string, unknown> } | { error: string } {
    return cursor === undefined
      ? { result: ownPage([feedbackToolDefinition(this.offeredName)], modern) }
      : { error: "Invalid cursor: this tool list has one page." };
  }

  /**
   * Upstream's answer to a client's `tools/list`, as the client gets it: the
   * first page (no cursor) gains the feedback tool; later pages pass as they
   * are. `undefined`: the page is to be forwarded unchanged.
   */
  clientPage(result: Record<string, unknown>, first: boolean): Record<string, unknown> | undefined {
    const page = pageOf(result);
    this.adopt(page, { replace: first });
    this.learnMarks(page.tools, first);
    if (!first) return undefined;
    this.offeredToClient = true;
    return { ...result, tools: [...page.tools, feedbackToolDefinition(this.offeredName)] };
  }

  /** Upstream's `tools/list` failed: a first page becomes the feedback tool alone. */
  failedPage(first: boolean, why: string, modern = false): Record<string, unknown> | undefined {
    if (!first) return undefined;
    this.config.log(`upstream tools/list failed (${why}); offering the feedback tool alone`);
    this.names = new Set();
    this.listing = "partial";
    return ownPage([feedbackToolDefinition(this.offeredName)], modern);
  }

  /** Learn the complete list with the proxy's own requests; concurrent callers share one listing. */
  refresh(fetchPage: PageFetcher): Promise<void> {
    this.refreshing ??= (async () => {
      const names: string[] = [];
      const tools: unknown[] = [];
      let cursor: string | undefined;
      for (let n = 0; n < MAX_TOOL_PAGES; n++) {
        const result = await fetchPage(cursor);
        if (!result) return;
        const page = pageOf(result);
        names.push(...page.names);
        tools.push(...page.tools);
        cursor = typeof result.nextCursor === "string" ? result.nextCursor : undefined;
        if (cursor === undefined) {
          this.adopt({ names, last: true, freshForMs: page.freshForMs }, { replace: true });
          this.learnMarks(tools, true);
          return;
        }
      }
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private adopt(page: ToolsPage, how: { replace: boolean }): void {
    if (how.replace) this.names = new Set(page.names);
    else for (const n of page.names) this.names.add(n);
    this.listing = page.last ? "complete" : "partial";
    // A listing just made is judged by, however short its ttl (0 is common): "missing" must mean missing now.
    this.freshUntil =
      page.freshForMs === undefined ? Number.POSITIVE_INFINITY : this.now() + Math.max(page.freshForMs, MIN_TRUST_MS);
    if (this.names.has(this.offeredName)) this.avoidCollision();
  }

  /** Upstream has a tool of the offered name: never shadow it, offer ours under another name. */
  private avoidCollision(): void {
    const base = this.config.collisionToolName;
    let alternative = base;
    for (let i = 2; this.names.has(alternative); i++) alternative = `${base}_${i}`;
    this.config.log(
      `upstream already has a tool named "${this.offeredName}": keeping it, and offering the feedback tool as "${alternative}" (choose with --collision-tool-name)`,
    );
    this.offeredName = alternative;
    if (this.config.learned) this.config.learned.toolName = alternative;
    if (this.offeredToClient) this.config.onRenamed();
  }
}
