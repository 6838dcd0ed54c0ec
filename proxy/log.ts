/** The proxy's voice: stderr only (stdout may be the protocol channel). */
export type Log = (message: string) => void;

export const stderrLog: Log = (message) => {
  process.stderr.write(`patchworkmcp proxy: ${message}\n`);
};

/** Details for troubleshooting (`--debug`): stderr with a mark, or nowhere. */
export const debugLog = (enabled: boolean): Log =>
  enabled ? (message) => process.stderr.write(`patchworkmcp proxy: debug: ${message}\n`) : () => undefined;
