import { describe, expect, it } from "vitest";
import { bcubed } from "../../bench/bcubed.js";

describe("bcubed", () => {
  it("matches a hand-computed example", () => {
    // truth: {a,b,c} {d,e}; predicted: {a,b} {c,d,e}
    // precision: a 1, b 1, c 1/3, d 2/3, e 2/3 -> 11/3 / 5 = 11/15
    // recall:    a 2/3, b 2/3, c 1/3, d 1, e 1 -> 11/3 / 5 = 11/15
    const truth = new Map([
      ["a", 1],
      ["b", 1],
      ["c", 1],
      ["d", 2],
      ["e", 2],
    ]);
    const pred = new Map([
      ["a", "x"],
      ["b", "x"],
      ["c", "y"],
      ["d", "y"],
      ["e", "y"],
    ]);
    const m = bcubed(truth, pred);
    expect(m.precision).toBeCloseTo(11 / 15, 10);
    expect(m.recall).toBeCloseTo(11 / 15, 10);
    expect(m.f1).toBeCloseTo(11 / 15, 10);
  });

  it("scores all-in-one and all-singletons as the extremes they are", () => {
    const truth = new Map([
      [1, "p"],
      [2, "p"],
      [3, "q"],
      [4, "r"],
    ]);
    const one = bcubed(
      truth,
      new Map([
        [1, 0],
        [2, 0],
        [3, 0],
        [4, 0],
      ]),
    );
    expect(one.recall).toBe(1);
    expect(one.precision).toBeCloseTo((0.5 + 0.5 + 0.25 + 0.25) / 4, 10);
    const singles = bcubed(
      truth,
      new Map([
        [1, 1],
        [2, 2],
        [3, 3],
        [4, 4],
      ]),
    );
    expect(singles.precision).toBe(1);
    expect(singles.recall).toBeCloseTo((0.5 + 0.5 + 1 + 1) / 4, 10);
  });
});
