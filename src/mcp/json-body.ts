/**
 * Read a JSON request body from a plain node:http request, the way express's
 * JSON parser did for /mcp: only `application/json` bodies are read (anything
 * else is left unread for the SDK transport, which answers 415), gzip, deflate
 * and br are decoded, the limit applies to the decoded size, and only UTF-8
 * is accepted. A request without a body gives undefined.
 */
import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";

export type BodyErrorCode = "too_large" | "invalid_json" | "aborted" | "unsupported_encoding" | "unsupported_charset";

export class BodyError extends Error {
  constructor(
    readonly code: BodyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "BodyError";
  }
}

const DECODERS: Record<string, () => NodeJS.ReadWriteStream> = {
  gzip: createGunzip,
  "x-gzip": createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

function hasBody(req: IncomingMessage): boolean {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}

export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  if (!hasBody(req)) return undefined;
  const [type = "", ...params] = (req.headers["content-type"] ?? "").split(";").map((p) => p.trim().toLowerCase());
  if (type !== "application/json") return undefined;
  const charset = params
    .find((p) => p.startsWith("charset="))
    ?.slice(8)
    .replace(/"/g, "");
  if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
    throw new BodyError("unsupported_charset", "The request body's charset is not supported; use UTF-8.");
  }
  const length = Number(req.headers["content-length"]);
  if (Number.isFinite(length) && length > limitBytes) throw new BodyError("too_large", "The body is too large.");

  const encoding = (req.headers["content-encoding"] ?? "identity").trim().toLowerCase();
  let stream: Readable = req;
  if (encoding !== "identity") {
    const decoder = DECODERS[encoding];
    if (!decoder)
      throw new BodyError(
        "unsupported_encoding",
        `The request body's content encoding "${encoding}" is not supported.`,
      );
    stream = req.pipe(decoder()) as unknown as Readable;
  }

  // Events, not `for await`: leaving an async iterator early destroys the request, and with it the socket
  // the 413 has to go out on.
  const chunks = await new Promise<Buffer[]>((resolve, reject) => {
    const collected: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        finish();
        if (stream !== req) req.unpipe();
        reject(new BodyError("too_large", "The body is too large."));
      } else collected.push(chunk);
    };
    const onEnd = () => {
      finish();
      resolve(collected);
    };
    const onError = () => {
      finish();
      // A broken compressed stream is bad input; a connection that went away is an abort.
      reject(
        req.destroyed || (stream === req && !req.complete)
          ? new BodyError("aborted", "The request body was not received completely.")
          : new BodyError("invalid_json", "The body could not be decoded."),
      );
    };
    const onAborted = () => {
      finish();
      reject(new BodyError("aborted", "The request body was not received completely."));
    };
    const finish = () => {
      stream.off("data", onData).off("end", onEnd).off("error", onError);
      req.off("aborted", onAborted);
    };
    stream.on("data", onData).on("end", onEnd).on("error", onError);
    req.on("aborted", onAborted);
  });
  const raw = Buffer.concat(chunks);
  // Skip a UTF-8 byte-order mark, as express's parser does.
  const text = raw.toString("utf8", raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? 3 : 0);
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BodyError("invalid_json", "The body is not valid JSON.");
  }
}
