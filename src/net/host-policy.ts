/**
 * The Host rule shared by every HTTP surface (the sidecar and the proxy's
 * downstream): a DNS-rebound page arrives with its own name in Host, so a
 * server bound to loopback accepts only loopback names and the ones allowed.
 * Kept apart from the HTTP app so the proxy can use it without importing it.
 */
const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Strip the port from a Host header value ("[::1]:8099" → "[::1]"). */
export function hostname(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  const colon = h.lastIndexOf(":");
  return colon === -1 ? h : h.slice(0, colon);
}

export interface HostPolicy {
  /** Address the server is bound to. */
  bindHost: string;
  /** Extra Host names to accept (e.g. a LAN name). "*" accepts any. */
  allowedHosts: string[];
  /** Origins allowed to call the API from a browser besides the dashboard itself. */
  allowedOrigins: string[];
}

/**
 * The Host rule as a function: undefined when the Host header is acceptable,
 * else why not. Bound to loopback, only loopback names (plus the configured
 * extras) pass; bound elsewhere, the configured list applies if one is given.
 */
export function hostRejecter(policy: HostPolicy): (hostHeader: string | undefined) => string | undefined {
  const extras = new Set(policy.allowedHosts.map((h) => h.toLowerCase()));
  const anyHost = extras.has("*");
  const strict = isLoopbackHost(policy.bindHost) || extras.size > 0;
  return (header) => {
    if (anyHost || !strict) return undefined;
    const name = header ? hostname(header) : "";
    if (isLoopbackHost(name) || extras.has(name) || name === policy.bindHost.toLowerCase()) return undefined;
    return `Host "${header ?? ""}" is not allowed. Add it with --allowed-hosts.`;
  };
}
