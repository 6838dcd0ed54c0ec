/** Small fetch helpers for API tests. */
export interface JsonResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export async function request<T = any>(
  url: string,
  init: { method?: string; body?: unknown; rawBody?: string; headers?: Record<string, string>; key?: string } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (init.body !== undefined && headers["content-type"] === undefined) headers["content-type"] = "application/json";
  if (init.key) headers.authorization = `Bearer ${init.key}`;
  const res = await fetch(url, {
    method: init.method ?? (init.body !== undefined || init.rawBody !== undefined ? "POST" : "GET"),
    headers,
    body: init.rawBody ?? (init.body !== undefined ? JSON.stringify(init.body) : undefined),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: body as T, text };
}

export const validReport = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  what_i_needed: "Filter invoices by a date range",
  what_i_tried: "Called list_invoices; it has no from/to parameters and returned 500 rows",
  gap_type: "missing_parameter",
  ...overrides,
});
