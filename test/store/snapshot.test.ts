// A page assembled from several queries reads one snapshot (SqlDb.snapshot), on both backends:
// a write another connection commits halfway through is not half-seen.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FeedbackStore } from "../../src/store/index.js";
import { testDbPath } from "../helpers/serve.js";

const payload = {
  what_i_needed: "n",
  what_i_tried: "t",
  gap_type: "other" as const,
  server_name: "snap",
  tools_available: [],
};

let store: FeedbackStore;
let other: FeedbackStore;

beforeAll(() => {
  const location = testDbPath("pwm-snapshot-");
  store = FeedbackStore.open(location);
  store.insertReport(payload);
  other = FeedbackStore.open(location);
});

afterAll(() => {
  other.close();
  store.close();
});

const count = (): number => (store.db.prepare("SELECT count(*) AS n FROM reports").get() as { n: number }).n;

describe("SqlDb.snapshot", () => {
  it("does not see a commit made by another connection after its first read", () => {
    const [before, after] = store.db.snapshot(() => {
      const first = count();
      other.insertReport(payload);
      return [first, count()];
    });
    expect(after).toBe(before);
    // Outside the snapshot the commit is there.
    expect(count()).toBe(before + 1);
  });

  it("returns what its function returns, and passes an error through", () => {
    expect(store.db.snapshot(() => 42)).toBe(42);
    expect(() =>
      store.db.snapshot(() => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    // The connection is usable afterwards (the snapshot was ended).
    expect(count()).toBeGreaterThan(0);
  });

  it("inside a transaction just runs the function", () => {
    const n = store.db.transaction(() => store.db.snapshot(() => count()))();
    expect(n).toBe(count());
  });
});
