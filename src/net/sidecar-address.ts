/** Where a sidecar listens unless told otherwise: the one definition `serve`, the proxy, drafts and alerts share. */
export const DEFAULT_PORT = 8099;

/** The sidecar's URL on this machine with the default port (also the default public URL in links). */
export const DEFAULT_SIDECAR_URL = `http://localhost:${DEFAULT_PORT}`;
