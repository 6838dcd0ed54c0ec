/**
 * The initialize gate: everything for the client passes through here, and
 * while the gate is held — between upstream's initialize result and the end
 * of the proxy's own handshake with upstream (`notifications/initialized`,
 * then a paged `tools/list`) — it queues behind that result, so nothing
 * overtakes it and its instructions can name the feedback tool as it will
 * actually be offered. The gate also makes sure upstream hears
 * `notifications/initialized` once, whoever sends it first.
 *
 * What the gate holds is any result that carries instructions: `answer` is
 * built when the gate opens, so it sees what the handshake learned.
 */
import { FEEDBACK_SERVER_INSTRUCTIONS, FEEDBACK_TOOL_NAME } from "../src/feedback/index.js";
import { serverInfoOf } from "./era.js";
import { isObject, type Frame, type RpcId } from "./jsonrpc.js";
import type { Log } from "./log.js";
import type { DownstreamSink } from "./session.js";

/** Longest the gate holds for upstream's tool list; after it, the result goes with the name as it stands. */
export const TOOLS_PROBE_WAIT_MS = 3_000;

/** The server instructions, naming the tool as it is actually offered. */
export function instructionsFor(toolName: string): string {
  return toolName === FEEDBACK_TOOL_NAME
    ? FEEDBACK_SERVER_INSTRUCTIONS
    : FEEDBACK_SERVER_INSTRUCTIONS.replaceAll(`\`${FEEDBACK_TOOL_NAME}\``, `\`${toolName}\``);
}

/**
 * What the proxy learns from a result that introduces the server: the
 * `initialize` result (2025-11-25: serverInfo a field of its own) or the
 * `server/discover` result (2026-07-28: serverInfo in `_meta`, as on every
 * result of that revision; no protocolVersion, no handshake).
 */
export interface ServerIntroduction {
  name?: string;
  version?: string;
  protocolVersion?: string;
  hasTools: boolean;
}

export function introductionOf(result: Record<string, unknown>): ServerIntroduction {
  const out: ServerIntroduction = { hasTools: isObject(result.capabilities) && isObject(result.capabilities.tools) };
  // Revision 2026-07-28 moves serverInfo into the result's `_meta`.
  const info = isObject(result.serverInfo) ? result.serverInfo : serverInfoOf(result);
  if (isObject(info)) {
    if (typeof info.name === "string") out.name = info.name;
    if (typeof info.version === "string") out.version = info.version;
  }
  if (typeof result.protocolVersion === "string") out.protocolVersion = result.protocolVersion;
  return out;
}

/** The result with the feedback instructions appended to upstream's own, and a `tools` capability. */
export function withInstructions(frame: Frame, toolName: string): Frame {
  const m = frame.msg;
  const result = { ...(m.result as Record<string, unknown>) };
  const capabilities = isObject(result.capabilities) ? { ...result.capabilities } : {};
  if (!isObject(capabilities.tools)) capabilities.tools = {};
  result.capabilities = capabilities;
  const own =
    typeof result.instructions === "string" && result.instructions.trim() !== "" ? `${result.instructions}\n\n` : "";
  result.instructions = own + instructionsFor(toolName);
  return { msg: { ...m, result } };
}

export interface GateOptions {
  downstream: DownstreamSink;
  /** Send `notifications/initialized` upstream; rejects when upstream could not take it. */
  sendInitialized: () => Promise<void> | void;
  log: Log;
  waitMs?: number;
}

export class InitializeGate {
  private held?: { open: () => void; queue: Array<[Frame, RpcId | undefined]> } | undefined;
  /** Upstream has been sent `notifications/initialized`: it hears it once. */
  private initializedSent = false;

  constructor(private readonly options: GateOptions) {}

  /** Something waits behind a held result: raw fast paths must not overtake it. */
  get holding(): boolean {
    return this.held !== undefined;
  }

  send(frame: Frame, related?: RpcId): void {
    if (this.held) this.held.queue.push([frame, related]);
    else this.options.downstream.send(frame, related);
  }

  /** The client's `notifications/initialized`: `true` when it is to be forwarded (upstream has not heard one). */
  clientInitialized(): boolean {
    if (this.initializedSent) return false;
    this.initializedSent = true;
    return true;
  }

  /**
   * Send `answer()` to the client once `learn` has finished (or `waitMs`
   * passed, or `open()` is called), with what queued meanwhile behind it.
   * A second hold while one is in place just queues its answer: a client
   * out of line gets both, in order.
   */
  hold(answer: () => Frame, related: RpcId, learn: () => Promise<void>, describe: () => string): void {
    if (this.held) {
      this.send(answer(), related);
      return;
    }
    const queue: Array<[Frame, RpcId | undefined]> = [];
    const waitMs = this.options.waitMs ?? TOOLS_PROBE_WAIT_MS;
    const open = () => {
      if (this.held?.queue !== queue) return;
      clearTimeout(timer);
      this.held = undefined;
      this.options.downstream.send(answer(), related);
      for (const [f, r] of queue) this.options.downstream.send(f, r);
    };
    const timer = setTimeout(() => {
      this.options.log(`upstream did not list its tools within ${waitMs} ms of initialize; ${describe()}`);
      open();
    }, waitMs);
    this.held = { open, queue };
    void learn()
      .catch((err: unknown) =>
        this.options.log(
          `listing upstream's tools after initialize failed: ${err instanceof Error ? err.message : String(err)}`,
        ),
      )
      .finally(open);
  }

  /**
   * Finish the handshake with upstream ourselves. `false`: upstream could not
   * take the notification, and the client's own will go through instead.
   */
  async finishHandshake(): Promise<boolean> {
    if (this.initializedSent) return true;
    this.initializedSent = true;
    try {
      // Over HTTP the notification is a request of its own: it must land before anything else is asked.
      await this.options.sendInitialized();
      return true;
    } catch {
      this.initializedSent = false;
      return false;
    }
  }

  /** Let a held result go now (upstream closed). */
  open(): void {
    this.held?.open();
  }
}
