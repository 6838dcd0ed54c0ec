/**
 * A small Server-Sent Events reader: bytes in, events out (`data`, `id`,
 * `retry`), as the WHATWG event-stream rules define them. Used where the
 * proxy reads upstream's SSE itself (2026-07-28 requests) and where it only
 * watches a stream the SDK reads (the `retry` field and the end of a polled
 * 2025-11-25 stream).
 */
export interface SseEvent {
  data: string;
  id?: string;
  event?: string;
}

export interface SseParser {
  push(chunk: Uint8Array): void;
  /** The last `retry:` value seen, in ms. */
  readonly retryMs: number | undefined;
}

export function sseParser(onEvent: (e: SseEvent) => void, onRetry?: (ms: number) => void): SseParser {
  const decoder = new TextDecoder();
  let buffer = "";
  let data: string[] = [];
  let id: string | undefined;
  let event: string | undefined;
  let retryMs: number | undefined;
  const line = (l: string) => {
    if (l === "") {
      if (data.length > 0 || id !== undefined) {
        onEvent({ data: data.join("\n"), ...(id !== undefined ? { id } : {}), ...(event ? { event } : {}) });
      }
      data = [];
      event = undefined;
      id = undefined;
      return;
    }
    if (l.startsWith(":")) return;
    const colon = l.indexOf(":");
    const field = colon === -1 ? l : l.slice(0, colon);
    let value = colon === -1 ? "" : l.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data.push(value);
    else if (field === "id") id = value;
    else if (field === "event") event = value;
    else if (field === "retry" && /^\d+$/.test(value)) {
      retryMs = Number(value);
      onRetry?.(retryMs);
    }
  };
  return {
    push(chunk) {
      buffer += decoder.decode(chunk, { stream: true });
      let at: number;
      while ((at = buffer.search(/\r\n|\r|\n/)) !== -1) {
        // A CR at the very end may be the first half of a CRLF: wait for the next chunk.
        if (at === buffer.length - 1 && buffer[at] === "\r") break;
        const nl = buffer.startsWith("\r\n", at) ? 2 : 1;
        line(buffer.slice(0, at));
        buffer = buffer.slice(at + nl);
      }
    },
    get retryMs() {
      return retryMs;
    },
  };
}
