/**
 * An OTLP/HTTP receiver on loopback for the OpenTelemetry tests: it takes what the official
 * exporters POST to /v1/traces and /v1/metrics (OTLP JSON) and keeps it decoded.
 */
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  contentType: string | undefined;
  body: OtlpBody;
}
export type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
export type KeyValue = { key: string; value: AnyValue };
export interface OtlpSpan {
  name: string;
  kind: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes: KeyValue[];
  status?: { code?: number; message?: string };
}
export interface OtlpDataPoint {
  attributes: KeyValue[];
  count: string | number;
  sum: number;
  bucketCounts: (string | number)[];
  explicitBounds: number[];
}
export interface OtlpMetric {
  name: string;
  unit: string;
  histogram?: { dataPoints: OtlpDataPoint[] };
}
export interface OtlpBody {
  resourceSpans?: { resource: { attributes: KeyValue[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
  resourceMetrics?: { resource: { attributes: KeyValue[] }; scopeMetrics: { metrics: OtlpMetric[] }[] }[];
}

/** An OTLP/HTTP receiver: answers `status` and keeps every decoded request. */
export async function otlpReceiver(status = 200): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      got.push({
        path: req.url ?? "",
        headers: req.headers,
        contentType: req.headers["content-type"],
        body: JSON.parse(text) as OtlpBody,
      });
      res.writeHead(status, { "content-type": "application/json" }).end(status === 200 ? "{}" : '{"message":"no"}');
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got, server };
}

export const attrs = (list: KeyValue[]): Record<string, string | number | boolean | undefined> =>
  Object.fromEntries(
    list.map((kv) => [
      kv.key,
      kv.value.stringValue ??
        (kv.value.intValue !== undefined ? Number(kv.value.intValue) : undefined) ??
        kv.value.doubleValue ??
        kv.value.boolValue,
    ]),
  );

export const spansOf = (got: Received[]): OtlpSpan[] =>
  got
    .filter((r) => r.path === "/v1/traces")
    .flatMap((r) => r.body.resourceSpans ?? [])
    .flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));

export const durationPoints = (got: Received[]): OtlpDataPoint[] =>
  got
    .filter((r) => r.path === "/v1/metrics")
    .flatMap((r) => r.body.resourceMetrics ?? [])
    .flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics))
    .filter((m) => m.name === "mcp.server.operation.duration")
    .flatMap((m) => m.histogram?.dataPoints ?? []);
