/**
 * fetch wrapper for the sidecar's REST API: adds the bearer key, turns error
 * bodies ({error:{code,message}}) into ApiError, and on 401 asks for a key
 * (one prompt shared by every request waiting on it) and retries.
 */
import { getKey } from "./keystore.js";
import type { Filters } from "./types.js";

export interface FieldIssue {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Per-field problems of a 422 validation error. */
    readonly details?: FieldIssue[],
  ) {
    super(message);
    this.name = "ApiError";
  }
}

type KeyPrompt = (reason: string) => Promise<boolean>;
let promptForKey: KeyPrompt = async () => false;
let pendingPrompt: Promise<boolean> | undefined;

/** Installed by main.ts: shows the key dialog, resolves true once a key was entered. */
export function setKeyPrompt(prompt: KeyPrompt): void {
  promptForKey = prompt;
}

function askForKey(reason: string): Promise<boolean> {
  pendingPrompt ??= promptForKey(reason).finally(() => {
    pendingPrompt = undefined;
  });
  return pendingPrompt;
}

async function errorFrom(res: Response): Promise<ApiError> {
  let code = "http_error";
  let message = `The server answered ${res.status} ${res.statusText}.`;
  let details: FieldIssue[] | undefined;
  try {
    const body = (await res.json()) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    if (typeof body.error?.code === "string") code = body.error.code;
    if (typeof body.error?.message === "string") message = body.error.message;
    if (Array.isArray(body.error?.details)) {
      details = body.error.details.filter(
        (d): d is FieldIssue =>
          typeof d === "object" && d !== null && typeof d.field === "string" && typeof d.message === "string",
      );
    }
  } catch {
    // not JSON: keep the generic sentence
  }
  return new ApiError(res.status, code, message, details);
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal | undefined;
  accept?: string;
  /** false: answer a 401 with the error instead of asking for a key (background polls). */
  promptOn401?: boolean;
}

/** A raw Response for a 2xx answer; throws ApiError otherwise. */
export async function request(path: string, options: RequestOptions = {}): Promise<Response> {
  for (;;) {
    const headers: Record<string, string> = { Accept: options.accept ?? "application/json" };
    const key = getKey();
    if (key) headers.Authorization = `Bearer ${key}`;
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(path, {
        method: options.method ?? "GET",
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal ?? null,
        credentials: "same-origin",
      });
    } catch (err) {
      if (err instanceof DOMException && err.name === "AbortError") throw err;
      throw new ApiError(
        0,
        "network_error",
        "Could not reach the PatchworkMCP server. Is `patchworkmcp serve` still running?",
      );
    }
    if (res.ok) return res;
    const error = await errorFrom(res);
    if (res.status === 401 && options.promptOn401 !== false && (await askForKey(error.message))) continue;
    throw error;
  }
}

export async function getJson<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const res = await request(path, options);
  return (await res.json()) as T;
}

/** "/api/feedback" + "?server_name=x&limit=50" from filters and extras, skipping empty values. */
export function withQuery(
  path: string,
  filters: Filters,
  extra: Record<string, string | number | undefined> = {},
): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...filters, ...extra })) {
    if (v !== undefined && v !== "") params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}
