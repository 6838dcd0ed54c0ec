/**
 * `Mcp-Param-*` headers (2026-07-28, SEP-2243): a tool may mark properties of
 * its input schema with `x-mcp-header: Name`; a `tools/call` over HTTP then
 * carries each such argument as `Mcp-Param-Name` too, and the server rejects
 * a header that disagrees with the body (400 + -32020).
 *
 * The proxy needs both directions where a hop has no headers: in front of a
 * stdio server it checks them as that server would (it never sees them), and
 * behind a stdio client it sends them to an HTTP server (the client could not).
 */
import { decodeHeaderValue, encodeHeaderValue, HEADER_MISMATCH, type HeaderProblem } from "./era.js";
import { isObject } from "./jsonrpc.js";

export interface ParamHeader {
  /** Property names from the schema root to the marked property. */
  path: string[];
  headerName: string;
  type: string | undefined;
}

/** The `x-mcp-header` marks of one input schema, on properties reachable through `properties` alone. */
export function paramHeadersOf(inputSchema: unknown): ParamHeader[] {
  const out: ParamHeader[] = [];
  const visit = (node: unknown, path: string[]) => {
    if (!isObject(node)) return;
    const name = node["x-mcp-header"];
    if (path.length > 0 && typeof name === "string" && name !== "")
      out.push({ path, headerName: name, type: typeof node.type === "string" ? node.type : undefined });
    if (isObject(node.properties))
      for (const [key, child] of Object.entries(node.properties)) visit(child, [...path, key]);
  };
  visit(inputSchema, []);
  return out;
}

function valueAt(root: unknown, path: string[]): unknown {
  let node = root;
  for (const key of path) {
    if (!isObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

/** A primitive argument as a header states it; `undefined`: no header for it. */
function asText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number" && Number.isFinite(value) && (!Number.isInteger(value) || Number.isSafeInteger(value)))
    return String(value);
  return undefined;
}

/** The headers a `tools/call` with these arguments carries (names lower-case). */
export function paramHeaderValues(marks: ParamHeader[], args: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const mark of marks) {
    const text = asText(valueAt(args, mark.path));
    if (text !== undefined) out[`mcp-param-${mark.headerName.toLowerCase()}`] = encodeHeaderValue(text);
  }
  return out;
}

/** The server-side check of the `Mcp-Param-*` headers against the body; `undefined` when they agree. */
export function paramHeaderProblem(
  marks: ParamHeader[],
  args: unknown,
  header: (name: string) => string | undefined,
): HeaderProblem | undefined {
  for (const mark of marks) {
    const key = `Mcp-Param-${mark.headerName}`;
    const raw = valueAt(args, mark.path);
    const text = asText(raw);
    if (text === undefined) continue;
    const mismatch = (body: string): HeaderProblem => ({
      code: HEADER_MISMATCH,
      message: `Bad Request: the request headers and body disagree: ${body}`,
      data: { mismatch: { header: key, body } },
    });
    const given = header(key.toLowerCase());
    const path = mark.path.join(".");
    if (given === undefined)
      return mismatch(`the body carries ${path}=${JSON.stringify(raw)} but the ${key} header is absent`);
    const decoded = decodeHeaderValue(given);
    if (decoded === undefined) return mismatch(`the ${key} header carries an invalid base64 value`);
    const numeric = (mark.type === "integer" || mark.type === "number") && typeof raw === "number";
    const same = numeric && /^-?\d+(\.\d+)?$/.test(decoded) ? Number(decoded) === raw : decoded === text;
    if (!same)
      return mismatch(
        `the ${key} header decodes to ${JSON.stringify(decoded)} but the body carries ${path}=${JSON.stringify(raw)}`,
      );
  }
  return undefined;
}
