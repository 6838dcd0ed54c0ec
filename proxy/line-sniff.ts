/**
 * Reading what the proxy needs off a JSON-RPC line's bytes, with no parse,
 * for the two messages that make up nearly all traffic: a client's
 * `tools/call` and a server's plain result. Both key orders the SDKs write are
 * recognised — TypeScript puts `jsonrpc` and `id` last (`{"method":…,"jsonrpc":"2.0","id":N}`),
 * Python first (`{"jsonrpc":"2.0","id":N,"method":…}`) — and anything else
 * returns `undefined`, for the parser. Only plain ids are read: numbers of up
 * to 15 digits and short strings of `[A-Za-z0-9_.:-]`.
 *
 * Why bytes rather than a regex on a decoded string: this runs for every
 * message, and on a two-core machine the proxy's CPU comes straight out of
 * the server's and the client's.
 */
import type { RpcId } from "./jsonrpc.js";
import { contentLength } from "./line-reader.js";

const bytes = (s: string) => Uint8Array.from(Buffer.from(s, "latin1"));
const HEAD_ID = bytes('{"jsonrpc":"2.0","id":');
const TAIL_ID = bytes(',"id":');
const RESULT_FIRST = bytes('{"result":');
const RESULT_KEY = bytes('"result":');
const TOOL_CALL = bytes('"method":"tools/call","params":{"name":"');
const META = bytes('"_meta"');
const META_BUFFER = Buffer.from(META);
const MAX_DIGITS = 15;
const MAX_STRING_ID = 40;
const MAX_TOOL_NAME = 128;
/** Past this, a native search for `"_meta"` beats a loop in JavaScript. */
const NATIVE_SEARCH_FROM = 1024;

const QUOTE = 0x22;
const BRACE_CLOSE = 0x7d;

function hasAt(b: Uint8Array, at: number, what: Uint8Array): boolean {
  if (at < 0 || at + what.length > b.length) return false;
  for (let i = 0; i < what.length; i++) if (b[at + i] !== what[i]) return false;
  return true;
}

const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;
const isIdChar = (c: number | undefined) =>
  c !== undefined &&
  ((c >= 0x30 && c <= 0x3a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x5f ||
    c === 0x2e ||
    c === 0x2d);
/** Characters of tool names as the spec recommends them, plus `/`. */
const isNameChar = (c: number | undefined) =>
  c !== undefined &&
  ((c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x5f ||
    c === 0x2e ||
    c === 0x2d ||
    c === 0x2f);

/** A JSON number id made of `b[from, to)`: optional minus, no leading zero. */
function numberId(b: Uint8Array, from: number, to: number): number | undefined {
  let i = from;
  const negative = b[i] === 0x2d;
  if (negative) i++;
  const digits = to - i;
  if (digits < 1 || digits > MAX_DIGITS || (digits > 1 && b[i] === 0x30)) return undefined;
  let v = 0;
  for (; i < to; i++) {
    const c = b[i];
    if (!isDigit(c)) return undefined;
    v = v * 10 + (c! - 0x30);
  }
  return negative ? -v : v;
}

/** The id that starts at `at`, and the index just past it. */
function idFrom(b: Buffer, at: number): { id: RpcId; end: number } | undefined {
  if (b[at] === QUOTE) {
    let i = at + 1;
    while (i - at <= MAX_STRING_ID && isIdChar(b[i])) i++;
    if (i === at + 1 || b[i] !== QUOTE) return undefined;
    return { id: b.toString("latin1", at + 1, i), end: i + 1 };
  }
  let i = at;
  if (b[i] === 0x2d) i++;
  while (i - at <= MAX_DIGITS + 1 && isDigit(b[i])) i++;
  const id = numberId(b, at, i);
  return id === undefined ? undefined : { id, end: i };
}

/** The id that ends just before `end`, preceded by `,"id":`. */
function idBefore(b: Buffer, end: number): RpcId | undefined {
  let i = end - 1;
  if (b[i] === QUOTE) {
    i--;
    while (end - i <= MAX_STRING_ID + 1 && isIdChar(b[i])) i--;
    if (b[i] !== QUOTE || i === end - 2 || !hasAt(b, i - TAIL_ID.length, TAIL_ID)) return undefined;
    return b.toString("latin1", i + 1, end - 1);
  }
  while (end - i <= MAX_DIGITS + 1 && isDigit(b[i])) i--;
  if (b[i] !== 0x2d) i++;
  if (!hasAt(b, i - TAIL_ID.length, TAIL_ID)) return undefined;
  return numberId(b, i, end);
}

/**
 * The top-level id of a line from its first bytes (`head`) and its last
 * (`tail`, without the newline): `,"id":N}` ending the tail — a nested id
 * would be followed by another `}` — or `{"jsonrpc":"2.0","id":N,` opening the
 * head. `next` is where the head continues after a head id, for callers that
 * check the next key.
 */
export function idAtEnds(head: Buffer, tail: Buffer): { id: RpcId; next?: number } | undefined {
  const n = tail.length;
  if (tail[n - 1] === BRACE_CLOSE) {
    const id = idBefore(tail, n - 1);
    if (id !== undefined) return { id };
  }
  if (!hasAt(head, 0, HEAD_ID)) return undefined;
  const found = idFrom(head, HEAD_ID.length);
  if (!found || head[found.end] !== 0x2c) return undefined;
  return { id: found.id, next: found.end + 1 };
}

/** The id of a line that is a plain result (not an error, request or notification). */
export function resultId(line: Buffer): RpcId | undefined {
  const n = contentLength(line);
  if (line[n - 1] !== BRACE_CLOSE) return undefined;
  if (hasAt(line, 0, RESULT_FIRST)) return idBefore(line, n - 1);
  if (!hasAt(line, 0, HEAD_ID)) return undefined;
  const found = idFrom(line, HEAD_ID.length);
  return found && line[found.end] === 0x2c && hasAt(line, found.end + 1, RESULT_KEY) ? found.id : undefined;
}

function mentionsMeta(line: Buffer, n: number): boolean {
  if (n >= NATIVE_SEARCH_FROM) return line.indexOf(META_BUFFER) !== -1;
  for (let i = 0; i < n; i++) if (line[i] === QUOTE && line[i + 1] === 0x5f && hasAt(line, i, META)) return true;
  return false;
}

/**
 * The id and tool name of a `tools/call` request line whose params start with
 * a plain `name`; `undefined` for any other line, and for any line mentioning
 * `"_meta"` (a progress token must be seen by the parser). Only a line the
 * client got wrong can be misread: one that is not valid JSON is passed on to
 * upstream, which answers it with its own error (its request stays pending
 * until upstream exits), and one with duplicate keys is read by the first
 * where JSON.parse takes the last.
 */
export function toolCallOf(line: Buffer): { id: RpcId; name: string } | undefined {
  const n = contentLength(line);
  if (line[0] !== 0x7b || line[n - 1] !== BRACE_CLOSE) return undefined;
  let at: number;
  let id: RpcId | undefined;
  if (hasAt(line, 1, TOOL_CALL)) {
    at = 1 + TOOL_CALL.length;
    id = idBefore(line, n - 1);
  } else {
    if (!hasAt(line, 0, HEAD_ID)) return undefined;
    const found = idFrom(line, HEAD_ID.length);
    if (!found || line[found.end] !== 0x2c || !hasAt(line, found.end + 1, TOOL_CALL)) return undefined;
    at = found.end + 1 + TOOL_CALL.length;
    id = found.id;
  }
  if (id === undefined) return undefined;
  let end = at;
  while (end - at < MAX_TOOL_NAME && isNameChar(line[end])) end++;
  if (end === at || line[end] !== QUOTE || (line[end + 1] !== 0x2c && line[end + 1] !== BRACE_CLOSE)) return undefined;
  if (mentionsMeta(line, n)) return undefined;
  return { id, name: line.toString("latin1", at, end) };
}
