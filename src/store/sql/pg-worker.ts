/**
 * The PostgreSQL connection's thread, as JavaScript source run by `new Worker(src, {eval: true})`
 * (pg-sync.ts): plain JavaScript needs no loader, so the thread starts the same way from dist/,
 * under tsx and under vitest. node-postgres is required by the absolute path the caller resolved.
 *
 * One client at a time; each request is one query (after the parameterless statements the caller
 * deferred to it), answered on the port, after which the shared flag is raised so the waiting
 * thread wakes (pg-sync.ts explains the protocol).
 *
 * A lost connection (the server restarted, a failover, an idle cut) is replaced on the next
 * query. If it was lost inside a transaction, every statement up to that transaction's ROLLBACK
 * fails (SQLSTATE 08006) instead of running, autocommitted, on the new connection: a transaction
 * is all or nothing on either side of a reconnect.
 */
export const PG_WORKER_SOURCE = String.raw`
const { workerData } = require("node:worker_threads");
const pg = require(workerData.pgPath);
const { url, port, flag, applicationName } = workerData;
const signal = new Int32Array(flag);

// Counts and ids come back as numbers, as better-sqlite3 returns them (int8 and numeric would be strings).
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

let client = null;
let connected = null;
let inTransaction = false;
let lostTransaction = false;
const names = new Map();

/** A failure of the connection itself rather than of the statement. */
function connectionFailed(err) {
  const code = String((err && err.code) || "");
  if (/^(08|57P0)/.test(code) || /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|NOTFOUND|AI_AGAIN|HOSTUNREACH|NETUNREACH)$/.test(code)) return true;
  return /Connection terminated|connection error|not queryable|socket/i.test(String(err && err.message));
}

function drop() {
  const c = client;
  client = null;
  connected = null;
  names.clear(); // prepared statements belong to the old connection
  if (inTransaction) lostTransaction = true;
  inTransaction = false;
  if (c) c.end().catch(() => undefined);
}

function open() {
  if (!client) {
    client = new pg.Client({ connectionString: url, application_name: applicationName });
    const mine = client;
    mine.on("error", () => {
      if (client === mine) drop();
    });
    // Plan each statement for its parameters: a generic plan cannot tell a filter on a rare
    // server_name from a common one and walks the primary key instead of the filter's index.
    connected = mine.connect().then(() => mine.query("SET plan_cache_mode = force_custom_plan"));
  }
  return connected;
}

function reply(id, r) {
  r.id = id;
  port.postMessage(r);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
}

/**
 * One statement. After a connection lost inside a transaction, every statement up to the
 * ROLLBACK fails without running (flagged \`lost\`: the connection itself is fine now).
 */
async function step(text, values, array, prepare) {
  if (lostTransaction) {
    if (text === "ROLLBACK") {
      lostTransaction = false;
      return { rows: [], rowCount: 0 };
    }
    throw Object.assign(new Error("the connection to PostgreSQL was lost during this transaction; it was rolled back"), { code: "08006", lost: true });
  }
  await open();
  // A store statement is prepared once per connection (parse and plan skipped after that).
  let name;
  if (prepare) {
    name = names.get(text);
    if (name === undefined) names.set(text, (name = "s" + names.size));
  }
  const res = await client.query({ name, text, values, rowMode: array ? "array" : undefined });
  if (text.startsWith("BEGIN")) inTransaction = true;
  else if (text === "COMMIT" || text === "ROLLBACK") inTransaction = false;
  // A multi-statement text (migrations) answers with one result per statement.
  const last = Array.isArray(res) ? res[res.length - 1] : res;
  return { rows: (last && last.rows) || [], rowCount: (last && last.rowCount) || 0 };
}

port.on("message", async (req) => {
  try {
    if (req.op === "close") {
      if (client) await client.end().catch(() => undefined);
      client = null;
      reply(req.id, { ok: true, rows: [], rowCount: 0 });
      port.close();
      return;
    }
    // Statements deferred by the caller (BEGIN, a lock) run first, in this one exchange.
    for (const text of req.before) await step(text, [], false, false);
    const r = await step(req.text, req.values, req.array, req.prepare);
    reply(req.id, { ok: true, rows: r.rows, rowCount: r.rowCount });
  } catch (err) {
    if (!(err && err.lost) && connectionFailed(err)) {
      drop();
      // The statement that met the lost connection fails; so does the rest of its transaction.
      reply(req.id, { ok: false, code: (err && err.code) || "08006", message: String(err && err.message) });
      return;
    }
    reply(req.id, { ok: false, message: String(err && err.message), code: err && err.code, detail: err && err.detail });
  }
});
`;
