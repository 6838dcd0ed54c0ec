/**
 * Optional OpenTelemetry export of the tool calls the proxy passes on: one span per
 * `tools/call` and the `mcp.server.operation.duration` histogram, sent over OTLP/HTTP (JSON)
 * with the official OpenTelemetry JS SDK, named by the MCP semantic conventions
 * (https://opentelemetry.io/docs/specs/semconv/gen-ai/mcp/), so a team can send the same data
 * the sidecar stores to the backend it already runs.
 *
 * The caller only ever hands over a finished CallEvent: `record()` queues a span and a
 * histogram point in memory and returns; batching processors export in the background, so a
 * slow or dead collector never delays upstream traffic. Export failures are logged once.
 *
 * Nothing here touches the global OpenTelemetry API registration: the providers are private
 * to the sink, so an upstream or a host process with its own SDK is left alone.
 */
import { type Attributes, type HrTime, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import {
  ATTR_ERROR_TYPE,
  ATTR_NETWORK_TRANSPORT,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  ERROR_TYPE_VALUE_OTHER,
} from "@opentelemetry/semantic-conventions";
import type { CallEvent } from "../src/analytics/index.js";
import { VERSION } from "../src/version.js";
import { type Log, stderrLog } from "./log.js";

/**
 * The MCP and GenAI names still in the "incubating" part of the semantic conventions. The
 * OpenTelemetry project asks instrumentation to copy these rather than import the incubating
 * entry point (it may change in a minor release); test/proxy/otel.test.ts checks each one
 * against that entry point, so a rename upstream fails a test instead of silently drifting.
 */
export const MCP_SEMCONV = {
  ATTR_MCP_METHOD_NAME: "mcp.method.name",
  ATTR_MCP_PROTOCOL_VERSION: "mcp.protocol.version",
  ATTR_MCP_SESSION_ID: "mcp.session.id",
  ATTR_JSONRPC_REQUEST_ID: "jsonrpc.request.id",
  ATTR_RPC_RESPONSE_STATUS_CODE: "rpc.response.status_code",
  ATTR_GEN_AI_TOOL_NAME: "gen_ai.tool.name",
  ATTR_GEN_AI_OPERATION_NAME: "gen_ai.operation.name",
  GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL: "execute_tool",
  METRIC_MCP_SERVER_OPERATION_DURATION: "mcp.server.operation.duration",
} as const;

/** The method every recorded event stands for. */
const TOOLS_CALL = "tools/call";
/** error.type for a result with `isError: true` (the MCP conventions' value). */
export const TOOL_ERROR_TYPE = "tool_error";
/** Bucket bounds the MCP conventions advise for mcp.server.operation.duration, in seconds. */
export const DURATION_BUCKETS_S = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300] as const;

/** The SDK's defaults are 5 s for spans and 60 s for metrics; the proxy flushes more often. */
export const DEFAULT_SPAN_EXPORT_DELAY_MS = 2000;
export const DEFAULT_METRIC_EXPORT_INTERVAL_MS = 10_000;
/** One OTLP request's timeout; a dead collector costs at most this per export. */
export const EXPORT_TIMEOUT_MS = 5000;
/** A proxy that is stopping waits at most this long for its last spans and metrics. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 3000;

export interface OtelSinkOptions {
  /** The OTLP/HTTP base URL (OTEL_EXPORTER_OTLP_ENDPOINT): /v1/traces and /v1/metrics are appended. */
  endpoint: string;
  /** Sent with every export (OTEL_EXPORTER_OTLP_HEADERS, e.g. an API key). */
  headers?: Record<string, string>;
  /** The resource's service.name (the upstream server's name). */
  serviceName: string;
  /** The resource's service.version (the upstream server's version), when known. */
  serviceVersion?: string | undefined;
  /** How often queued spans are exported. */
  spanExportDelayMs?: number;
  /** How often the histogram is exported. */
  metricExportIntervalMs?: number;
  /** The longest shutdown() waits for the last export before giving up on it. */
  shutdownTimeoutMs?: number;
  /** Where the one export-failure message goes (stderr by default: stdout may be protocol). */
  log?: Log;
}

export interface CallExtra {
  /** How the client reached the proxy: stdio ("pipe") or HTTP ("tcp"). */
  transport: "pipe" | "tcp";
  /** The JSON-RPC id of the client's request. */
  request_id: string | number;
}

export interface OtelSink {
  record(event: CallEvent, extra: CallExtra): void;
  /** Exports what is queued, then stops; later record() calls are ignored. */
  shutdown(): Promise<void>;
}

/** The error.type of a failed call, or undefined for a success. */
export function errorTypeOf(event: Pick<CallEvent, "outcome" | "error_code">): string | undefined {
  if (event.outcome === "ok") return undefined;
  if (event.outcome === "tool_error") return TOOL_ERROR_TYPE;
  return event.error_code === null ? ERROR_TYPE_VALUE_OTHER : String(event.error_code);
}

/** Epoch milliseconds (fractional) as the SDK's [seconds, nanoseconds]. */
function hrTimeOf(epochMs: number): HrTime {
  const seconds = Math.floor(epochMs / 1000);
  return [seconds, Math.round((epochMs - seconds * 1000) * 1e6)];
}

/** The attributes span and metric share: all low-cardinality (no session or request id). */
function metricAttributes(event: CallEvent, extra: CallExtra): Attributes {
  const attributes: Attributes = {
    [MCP_SEMCONV.ATTR_MCP_METHOD_NAME]: TOOLS_CALL,
    [MCP_SEMCONV.ATTR_GEN_AI_TOOL_NAME]: event.tool_name,
    [MCP_SEMCONV.ATTR_GEN_AI_OPERATION_NAME]: MCP_SEMCONV.GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
    [ATTR_NETWORK_TRANSPORT]: extra.transport,
  };
  if (event.protocol_version !== null) attributes[MCP_SEMCONV.ATTR_MCP_PROTOCOL_VERSION] = event.protocol_version;
  const errorType = errorTypeOf(event);
  if (errorType !== undefined) attributes[ATTR_ERROR_TYPE] = errorType;
  if (event.outcome === "error" && event.error_code !== null)
    attributes[MCP_SEMCONV.ATTR_RPC_RESPONSE_STATUS_CODE] = String(event.error_code);
  return attributes;
}

/** An exporter's failures reach `onFailure`; the export itself is unchanged. */
function watchSpans(inner: SpanExporter, onFailure: (error: Error | undefined) => void): SpanExporter {
  return {
    export: (spans, done) =>
      inner.export(spans, (result) => {
        if (result.code !== 0) onFailure(result.error);
        done(result);
      }),
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

function watchMetrics(inner: PushMetricExporter, onFailure: (error: Error | undefined) => void): PushMetricExporter {
  return {
    export: (metrics, done) =>
      inner.export(metrics, (result) => {
        if (result.code !== 0) onFailure(result.error);
        done(result);
      }),
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
    ...(inner.selectAggregationTemporality
      ? { selectAggregationTemporality: inner.selectAggregationTemporality.bind(inner) }
      : {}),
    ...(inner.selectAggregation ? { selectAggregation: inner.selectAggregation.bind(inner) } : {}),
  };
}

/** `endpoint` + signal path, without doubling a trailing slash. */
export function signalUrl(endpoint: string, signal: "traces" | "metrics"): string {
  return `${endpoint.replace(/\/+$/, "")}/v1/${signal}`;
}

export function createOtelSink(options: OtelSinkOptions): OtelSink {
  const log = options.log ?? stderrLog;
  const headers = options.headers ?? {};
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: options.serviceName,
    ...(options.serviceVersion ? { [ATTR_SERVICE_VERSION]: options.serviceVersion } : {}),
  });

  let failureLogged = false;
  const onFailure = (signal: string) => (error: Error | undefined) => {
    if (failureLogged) return;
    failureLogged = true;
    log(
      `OpenTelemetry export of ${signal} to ${signalUrl(options.endpoint, signal === "spans" ? "traces" : "metrics")} failed` +
        `${error?.message ? `: ${error.message}` : ""}; tool calls still pass, further export errors are not logged`,
    );
  };

  const tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: [
      new BatchSpanProcessor(
        watchSpans(
          new OTLPTraceExporter({
            url: signalUrl(options.endpoint, "traces"),
            headers,
            timeoutMillis: EXPORT_TIMEOUT_MS,
          }),
          onFailure("spans"),
        ),
        {
          scheduledDelayMillis: options.spanExportDelayMs ?? DEFAULT_SPAN_EXPORT_DELAY_MS,
          // A full queue drops spans rather than holding the caller.
          maxQueueSize: 4096,
          maxExportBatchSize: 512,
          exportTimeoutMillis: EXPORT_TIMEOUT_MS,
        },
      ),
    ],
  });
  const metricInterval = options.metricExportIntervalMs ?? DEFAULT_METRIC_EXPORT_INTERVAL_MS;
  const meterProvider = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: watchMetrics(
          new OTLPMetricExporter({
            url: signalUrl(options.endpoint, "metrics"),
            headers,
            timeoutMillis: EXPORT_TIMEOUT_MS,
          }),
          onFailure("metrics"),
        ),
        exportIntervalMillis: metricInterval,
        // The SDK wants the timeout within the interval.
        exportTimeoutMillis: Math.min(EXPORT_TIMEOUT_MS, metricInterval),
      }),
    ],
  });
  const tracer = tracerProvider.getTracer("patchworkmcp-proxy", VERSION);
  const duration = meterProvider
    .getMeter("patchworkmcp-proxy", VERSION)
    .createHistogram(MCP_SEMCONV.METRIC_MCP_SERVER_OPERATION_DURATION, {
      unit: "s",
      description: "Duration of the MCP request or notification as observed by the proxy, in seconds.",
      advice: { explicitBucketBoundaries: [...DURATION_BUCKETS_S] },
    });

  let closed: Promise<void> | undefined;
  return {
    record(event, extra) {
      if (closed) return;
      const startMs = Date.parse(event.started_at);
      if (!Number.isFinite(startMs)) return;
      const shared = metricAttributes(event, extra);
      const span = tracer.startSpan(`${TOOLS_CALL} ${event.tool_name}`, {
        kind: SpanKind.SERVER,
        startTime: hrTimeOf(startMs),
        attributes: {
          ...shared,
          [MCP_SEMCONV.ATTR_JSONRPC_REQUEST_ID]: String(extra.request_id),
          ...(event.session_id !== null ? { [MCP_SEMCONV.ATTR_MCP_SESSION_ID]: event.session_id } : {}),
        },
      });
      if (event.outcome !== "ok") {
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message:
            event.outcome === "tool_error"
              ? "the tool answered with isError: true"
              : `the upstream answered with JSON-RPC error ${event.error_code ?? "(no code)"}`,
        });
      }
      span.end(hrTimeOf(startMs + event.duration_ms));
      duration.record(event.duration_ms / 1000, shared);
    },
    shutdown() {
      closed ??= new Promise<void>((resolve) => {
        // A collector that never answers must not hold the proxy's exit: give up after the deadline.
        const deadline = setTimeout(resolve, options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS);
        deadline.unref();
        void Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]).then(() => {
          clearTimeout(deadline);
          resolve();
        });
      });
      return closed;
    },
  };
}

/**
 * A sink that starts its exporters at the first call, named after the server that call
 * went to (a proxy fronts one upstream, whose name it learns at `initialize`), unless
 * `serviceName` (--name) says otherwise.
 */
export function createLazyOtelSink(
  options: Omit<OtelSinkOptions, "serviceName" | "serviceVersion"> & { serviceName?: string | undefined },
): OtelSink {
  let sink: OtelSink | undefined;
  let stopped = false;
  return {
    record(event, extra) {
      if (stopped) return;
      sink ??= createOtelSink({
        ...options,
        serviceName: options.serviceName ?? event.server_name,
        serviceVersion: event.server_version ?? undefined,
      });
      sink.record(event, extra);
    },
    async shutdown() {
      stopped = true;
      await sink?.shutdown();
    },
  };
}
