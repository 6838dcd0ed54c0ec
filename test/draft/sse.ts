/** A spec-following incremental SSE parser for tests (lines end in LF, CR or CRLF; blank line dispatches). */
export interface SseEvent {
  event: string;
  data: string;
}

export class SseParser {
  private buffer = "";
  private event = "";
  private data: string[] = [];
  comments = 0;

  feed(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m || (m[0] === "\r" && m.index === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      if (line === "") {
        if (this.data.length) out.push({ event: this.event || "message", data: this.data.join("\n") });
        this.event = "";
        this.data = [];
      } else if (line.startsWith(":")) {
        this.comments++;
      } else {
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") this.event = value;
        else if (field === "data") this.data.push(value);
      }
    }
    return out;
  }
}

/** Read a fetch Response as SSE, chunk by chunk as it arrives; also returns the raw text. */
export async function readSse(
  res: Response,
  onEvent?: (e: SseEvent) => boolean | undefined,
): Promise<{ events: SseEvent[]; raw: string }> {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  let raw = "";
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    raw += value;
    for (const e of parser.feed(value)) {
      events.push(e);
      if (onEvent?.(e) === false) {
        await reader.cancel();
        return { events, raw };
      }
    }
  }
  return { events, raw };
}
