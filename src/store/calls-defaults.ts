/**
 * Retention defaults of tool-call analytics, one definition for `serve`'s flags (which must not
 * load the store to show --help), the server and the README.
 */
export const CALL_RETENTION_DAYS_DEFAULT = 30;
export const ROLLUP_RETENTION_DAYS_DEFAULT = 400;
/** How often serve's retention pass runs (ms). */
export const CALL_PURGE_INTERVAL_MS_DEFAULT = 3_600_000;
