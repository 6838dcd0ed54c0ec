/**
 * The PostgreSQL connection's thread, as JavaScript source run by `new Worker(src, {eval: true})`
 * (pg-sync.ts): plain JavaScript needs no loader, so the thread starts the same way from dist/,
 * under tsx and under vitest. node-postgres is required by the absolute path the caller resolved.
 *
 * One client; each request is one query, answered on the port, after which the shared flag is
 * raised so the waiting thread wakes (pg-sync.ts explains the protocol).
 */
export const PG_WORKER_SOURCE = String.raw`
const { workerData } = require("node:worker_threads");
const pg = require(workerData.pgPath);
const { url, port, flag, applicationName } = workerData;
const signal = new Int32Array(flag);

// Counts and ids come back as numbers, as better-sqlite3 returns them (int8 and numeric would be strings).
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

const client = new pg.Client({ connectionString: url, application_name: applicationName });
let connected;
const names = new Map();
let broken;
client.on("error", (err) => { broken = err; });

function reply(id, r) {
  r.id = id;
  port.postMessage(r);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
}

port.on("message", async (req) => {
  try {
    if (req.op === "close") {
      await client.end().catch(() => undefined);
      reply(req.id, { ok: true, rows: [], rowCount: 0 });
      port.close();
      return;
    }
    if (broken) throw broken;
    connected = connected || client.connect();
    await connected;
    // A store statement is prepared once per connection (parse and plan skipped after that).
    let name;
    if (req.prepare) {
      name = names.get(req.text);
      if (name === undefined) names.set(req.text, (name = "s" + names.size));
    }
    const res = await client.query({ name, text: req.text, values: req.values, rowMode: req.array ? "array" : undefined });
    // A multi-statement text (migrations) answers with one result per statement.
    const last = Array.isArray(res) ? res[res.length - 1] : res;
    reply(req.id, { ok: true, rows: (last && last.rows) || [], rowCount: (last && last.rowCount) || 0 });
  } catch (err) {
    reply(req.id, { ok: false, message: String(err && err.message), code: err && err.code, detail: err && err.detail });
  }
});
`;
