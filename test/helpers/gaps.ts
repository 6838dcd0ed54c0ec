/**
 * Condition waits for deferred grouping: `serve` stores a report first and its grouping worker
 * assigns the gap moments later (src/gaps/deferred.ts).
 */
import { request } from "./http.js";
import { openRawDb } from "./serve.js";

const WAIT_MS = 15_000;
const tick = () => new Promise((r) => setTimeout(r, 20));

/** The report's gap id, once the grouping worker has assigned it. */
export async function gapIdOf(baseUrl: string, reportId: number, key?: string): Promise<number> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const r = await request(`${baseUrl}/api/feedback/${reportId}`, key === undefined ? {} : { key });
    if (typeof r.body?.gap_id === "number") return r.body.gap_id as number;
    if (Date.now() > deadline) throw new Error(`report ${reportId} got no gap within ${WAIT_MS} ms: ${r.text}`);
    await tick();
  }
}

export interface GroupingJson {
  pending: number;
  assigned_upto: number;
  latest_id: number;
  mode: string;
}

/** Wait until the grouping worker has passed every stored report (GET /healthz `grouping`); returns it. */
export async function groupingSettled(baseUrl: string): Promise<GroupingJson> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const g = (await request(`${baseUrl}/healthz`)).body.grouping as GroupingJson;
    if (g.pending === 0 && g.mode === "idle") return g;
    if (Date.now() > deadline) throw new Error(`grouping still behind after ${WAIT_MS} ms: ${JSON.stringify(g)}`);
    await tick();
  }
}

/** Every report in exactly one live gap, every gap's cached count equal to its reports (read from the database). */
export function gapConsistency(location: string): {
  reports: number;
  unassigned: number;
  inDeadGap: number;
  mismatched: number;
  counted: number;
} {
  const db = openRawDb(location, { readonly: true });
  try {
    const one = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      reports: one("SELECT count(*) AS n FROM reports"),
      unassigned: one("SELECT count(*) AS n FROM reports WHERE gap_id IS NULL"),
      inDeadGap: one(
        "SELECT count(*) AS n FROM reports r JOIN gaps g ON g.id = r.gap_id WHERE g.status = 'duplicate' OR g.server_name <> r.server_name",
      ),
      mismatched: one(
        "SELECT count(*) AS n FROM gaps g WHERE g.reports <> (SELECT count(*) FROM reports r WHERE r.gap_id = g.id)",
      ),
      counted: one("SELECT coalesce(sum(reports), 0) AS n FROM gaps"),
    };
  } finally {
    db.close();
  }
}
