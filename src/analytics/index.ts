/** Public surface of tool-call analytics: the wire contract and the latency histogram. */
export * from "./call-event.js";
export * from "./histogram.js";
