/** The score formula and the version order (pure functions). */
import { describe, expect, it } from "vitest";
import { rankKey, scoreOf, SCORE_HALF_LIFE_DAYS } from "../../src/gaps/score.js";
import { compareVersions, isAtOrAbove, parseVersion } from "../../src/gaps/version-order.js";

const DAY = 86_400_000;
const now = Date.parse("2026-03-31T00:00:00Z");
const gap = { sessions: 8, reports: 10, blocked: 5, clients: 2, models: 1, last_seen: "2026-03-31T00:00:00Z" };

describe("score", () => {
  it("shows its formula with the numbers filled in", () => {
    const s = scoreOf(gap, now);
    expect(s.score).toBe(18); // 8 × 1.5 × 1.5 × 1
    expect(s.score_explain).toBe(
      "score 18 = 8 sessions × (1 + 0.5 blocked share, 5 of 10 reports) × breadth 1.5 (1 + ½·log2 2 clients + ½·log2 1 model) × recency 1 (last seen 0 days ago, half-life 14 days)",
    );
  });

  it("halves every half-life, and the stored rank key orders gaps as the current score does", () => {
    const old = { ...gap, last_seen: new Date(now - SCORE_HALF_LIFE_DAYS * DAY).toISOString() };
    expect(scoreOf(old, now).score).toBe(9);
    const a = { ...gap, sessions: 30, last_seen: new Date(now - 40 * DAY).toISOString() };
    const b = { ...gap, sessions: 5, last_seen: new Date(now - 1 * DAY).toISOString() };
    const byScore = scoreOf(a, now).score > scoreOf(b, now).score;
    expect(rankKey(a, a.last_seen)! > rankKey(b, b.last_seen)!).toBe(byScore);
  });
});

describe("version order", () => {
  it("compares the semver way", () => {
    const order = ["0.9", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-rc.1", "1.0.0", "v1.0.1", "1.10.0"];
    for (let i = 1; i < order.length; i++)
      expect(compareVersions(parseVersion(order[i - 1]!)!, parseVersion(order[i]!)!)).toBeLessThan(0);
    expect(isAtOrAbove("v1.4.0+build.7", "1.4")).toBe(true);
    expect(isAtOrAbove("1.3.99", "1.4.0")).toBe(false);
    expect(isAtOrAbove("nightly", "1.4.0")).toBeUndefined();
    expect(parseVersion("1.2.3.4")).toBeUndefined();
  });
});
