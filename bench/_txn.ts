import { join } from "node:path";
import { FeedbackStore } from "../src/store/index.js";
import { tempDir } from "../test/helpers/serve.js";
import { syntheticReport } from "./seed.js";
const dir = tempDir("pwm-txn-");
const store = FeedbackStore.open(join(dir, "f.db"), { grouping: "deferred" });
store.db.sqlite!.pragma("wal_autocheckpoint = 0");
const sync = process.env.SYNC;
if (sync) store.db.sqlite!.pragma(`synchronous = ${sync}`);
let i = 0;
for (const size of [1, 5, 10, 20, 50]) {
  const items = () => Array.from({ length: size }, () => ({ payload: syntheticReport(i++) }));
  for (let k = 0; k < 50; k++) store.insertMany(items());
  const n = Math.ceil(2000 / size);
  let ms = 0;
  for (let k = 0; k < n; k++) {
    const b = items();
    const t = performance.now();
    store.insertMany(b);
    ms += performance.now() - t;
  }
  console.log(`batch ${size}: ${(ms / n).toFixed(3)} ms/txn, ${((ms / n / size) * 1000).toFixed(1)} µs/report`);
}
store.close();
