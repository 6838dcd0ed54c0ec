/** The proxy's voice: stderr only (stdout may be the protocol channel). */
export type Log = (message: string) => void;

export const stderrLog: Log = (message) => {
  process.stderr.write(`patchworkmcp proxy: ${message}\n`);
};
