import { describe, expect, it } from "vitest";
import {
  addToProfile,
  CandidateIndex,
  chooseGap,
  groupAll,
  MAX_BANDS,
  MAX_CANDIDATES,
  MAX_EXEMPLARS,
  MAX_PROFILE_FINGERPRINTS,
  MAX_PROFILE_TERMS,
  MAX_TERMS,
  medoid,
  mergeProfiles,
  scoreAgainst,
  signatureOf,
  topSuggestions,
  type GapProfile,
  type GroupingInput,
} from "../../src/gaps/index.js";

function report(over: Partial<GroupingInput> = {}): GroupingInput {
  return {
    server_name: "billing",
    tool_name: "get_costs",
    gap_type: "missing_parameter",
    what_i_needed: "Filter costs by a date range",
    what_i_tried: "Called get_costs with no arguments: got lifetime totals.",
    suggestion: "Add start_date and end_date parameters to get_costs.",
    user_goal: null,
    ...over,
  };
}

function profileOf(id: number, inputs: GroupingInput[]): GapProfile {
  let p: GapProfile | null = null;
  for (const i of inputs) p = addToProfile(p, id, i, signatureOf(i));
  return p!;
}

describe("signatureOf", () => {
  it("gives templated duplicates that differ only in ids, dates and numbers one fingerprint", () => {
    const a = signatureOf(
      report({ what_i_needed: "costs between 2024-01-01 and 2024-02-01 for run_8f3a2c (42 rows)" }),
    );
    const b = signatureOf(report({ what_i_needed: "Costs between 2025-06-30 and 2025-07-15 for run_99ab01 (7 rows)" }));
    const c = signatureOf(report({ what_i_needed: "costs per project for run_8f3a2c (42 rows)" }));
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.fingerprint).not.toBe(c.fingerprint);
  });

  it("is stable and bounded", () => {
    const s = signatureOf(
      report({
        what_i_tried:
          "word ".repeat(10) + Array.from({ length: 300 }, (_, i) => `term${"abcdefghij"[i % 10]}x${i}`).join(" "),
      }),
    );
    expect(
      signatureOf(
        report({
          what_i_tried:
            "word ".repeat(10) + Array.from({ length: 300 }, (_, i) => `term${"abcdefghij"[i % 10]}x${i}`).join(" "),
        }),
      ),
    ).toEqual(s);
    expect(s.terms.length).toBeLessThanOrEqual(MAX_TERMS);
    expect(s.bands.length).toBeLessThanOrEqual(MAX_BANDS);
    const sorted = [...s.terms].map(([t]) => t).sort();
    expect(s.terms.map(([t]) => t)).toEqual(sorted);
    expect(Math.hypot(...s.terms.map(([, w]) => w))).toBeCloseTo(1, 4);
  });

  it("namespaces band keys and fingerprints by server", () => {
    const a = signatureOf(report());
    const b = signatureOf(report({ server_name: "calendar" }));
    expect(a.bands.every((k) => k.startsWith("billing|"))).toBe(true);
    expect(b.bands.some((k) => a.bands.includes(k))).toBe(false);
    expect(a.fingerprint).not.toBe(b.fingerprint);
  });
});

describe("chooseGap", () => {
  it("never joins a gap of another server, even an identical one", () => {
    const other = profileOf(7, [report({ server_name: "calendar" })]);
    const choice = chooseGap(report(), signatureOf(report()), [other]);
    expect(choice.kind).toBe("new");
  });

  it("joins an exact duplicate whatever the rest says", () => {
    const input = report();
    const gap = profileOf(3, [input]);
    expect(chooseGap(input, signatureOf(input), [gap])).toEqual({ kind: "join", gapId: 3, similarity: 1 });
  });

  it("joins a paraphrase of the same need on the same tool", () => {
    const gap = profileOf(1, [
      report(),
      report({ what_i_needed: "need date filter on get_costs", suggestion: "get_costs(since, until)" }),
    ]);
    const input = report({
      what_i_needed: "costs for a specific time window, e.g. since 2024-03-01",
      suggestion: null,
    });
    const choice = chooseGap(input, signatureOf(input), [gap]);
    expect(choice).toMatchObject({ kind: "join", gapId: 1 });
  });

  it("keeps the same words on different tools apart", () => {
    const gap = profileOf(1, [
      report({ what_i_needed: "filter costs by a date range", suggestion: "add from and to parameters" }),
    ]);
    const onOtherTool = report({
      tool_name: "list_invoices",
      what_i_needed: "need a date range filter, e.g. since 2024-03-01",
      suggestion: null,
      what_i_tried: "nothing",
    });
    const onSameTool = { ...onOtherTool, tool_name: "get_costs" };
    const noTool = { ...onOtherTool, tool_name: null };
    expect(chooseGap(onSameTool, signatureOf(onSameTool), [gap]).kind).toBe("join");
    expect(chooseGap(noTool, signatureOf(noTool), [gap]).kind).toBe("join");
    expect(chooseGap(onOtherTool, signatureOf(onOtherTool), [gap]).kind).toBe("new");
    const same = scoreAgainst(onSameTool, signatureOf(onSameTool), gap)!;
    const other = scoreAgainst(onOtherTool, signatureOf(onOtherTool), gap)!;
    expect(same.text).toBeCloseTo(other.text, 10);
    expect(same.total - other.total).toBeGreaterThanOrEqual(0.4);
  });

  it("penalises a sibling tool (same resource, another verb) less than an unrelated one", () => {
    const gap = profileOf(1, [
      report({
        tool_name: "ci_list_builds",
        gap_type: "wrong_format",
        what_i_needed: "build durations come back as strings like '1h2m3s', I need seconds",
        suggestion: "duration_seconds integer",
      }),
    ]);
    const base = {
      gap_type: "wrong_format" as const,
      what_i_needed: "the build duration is a string, not a number of seconds",
      what_i_tried: "parsed it by hand",
      suggestion: null,
    };
    const sibling = report({ ...base, tool_name: "ci_get_build" });
    const unrelated = report({ ...base, tool_name: "ci_list_runners" });
    const s = scoreAgainst(sibling, signatureOf(sibling), gap)!;
    const u = scoreAgainst(unrelated, signatureOf(unrelated), gap)!;
    expect(s.text).toBeCloseTo(u.text, 10);
    expect(s.tool).toBeLessThan(0);
    expect(s.tool).toBeGreaterThan(u.tool);
    expect(chooseGap(sibling, signatureOf(sibling), [gap]).kind).toBe("join");
    expect(chooseGap(unrelated, signatureOf(unrelated), [gap]).kind).toBe("new");
  });

  it("keeps a different need on the same tool apart", () => {
    const gap = profileOf(1, [report()]);
    const input = report({
      what_i_needed: "Download the invoice as a PDF",
      what_i_tried: "get_costs has no pdf",
      suggestion: "return a pdf_url",
    });
    expect(chooseGap(input, signatureOf(input), [gap]).kind).toBe("new");
  });
});

describe("CandidateIndex", () => {
  it("finds a near-duplicate's gap through the bands, and never another server's", () => {
    const index = new CandidateIndex();
    const stored = report({ what_i_needed: "need to filter the costs by a date range (start and end)" });
    index.add(11, signatureOf(stored));
    index.add(12, signatureOf(report({ what_i_needed: "refund a charge", suggestion: "create_refund(charge_id)" })));
    index.add(13, signatureOf({ ...stored, server_name: "calendar" }));
    const probe = report({ what_i_needed: "Need to filter costs by date range, start + end", suggestion: null });
    const found = index.lookup(signatureOf(probe));
    expect(found[0]).toBe(11);
    expect(found).not.toContain(13);
  });

  it("caps the candidates at MAX_CANDIDATES, most shared bands first", () => {
    const index = new CandidateIndex();
    const sig = signatureOf(report());
    for (let g = 1; g <= MAX_CANDIDATES + 20; g++)
      index.add(g, { ...sig, fingerprint: `f${g}`, bands: sig.bands.slice(0, 1 + (g % 5)) });
    const found = index.lookup(sig);
    expect(found).toHaveLength(MAX_CANDIDATES);
    expect(found[0]! % 5).toBe(4);
  });
});

describe("groupAll", () => {
  const reports = [
    { id: 1, input: report() },
    { id: 2, input: report({ what_i_needed: "need date filter on get_costs", suggestion: null }) },
    {
      id: 3,
      input: report({
        tool_name: null,
        what_i_needed: "Refund a customer's charge",
        what_i_tried: "no refund tool",
        suggestion: "create_refund(charge_id)",
      }),
    },
    { id: 4, input: report({ server_name: "calendar" }) },
    { id: 5, input: report({ what_i_needed: "Filter costs by a date range (2024-01-01 to 2024-02-01)" }) },
  ];

  it("groups deterministically, whatever order the reports come in", () => {
    const a = groupAll(reports);
    const b = groupAll([...reports].reverse());
    expect([...a].sort()).toEqual([...b].sort());
    expect(a.get(1)).toBe(a.get(2));
    expect(a.get(1)).toBe(a.get(5));
    expect(a.get(3)).not.toBe(a.get(1));
    expect(a.get(4)).not.toBe(a.get(1));
  });
});

describe("profiles", () => {
  it("stay bounded when merged", () => {
    const many = Array.from({ length: 120 }, (_, i) =>
      report({
        what_i_needed: `need ${["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"][i % 6]}${"abcdefghijklmnopqrstuvwxyz"[i % 26]}word ${"xyzw".repeat(1 + (i % 3))} thing number ${i}`,
        what_i_tried: `tried variant${"abcdefghij"[i % 10]}${"klmnopqrst"[Math.floor(i / 10) % 10]}`,
      }),
    );
    const a = profileOf(1, many.slice(0, 60));
    const b = profileOf(2, many.slice(60));
    const m = mergeProfiles(a, b);
    expect(m.id).toBe(1);
    expect(m.size).toBe(120);
    expect(m.centroid.length).toBeLessThanOrEqual(MAX_PROFILE_TERMS);
    expect(m.fingerprints.length).toBeLessThanOrEqual(MAX_PROFILE_FINGERPRINTS);
    expect((m.exemplars ?? []).length).toBeLessThanOrEqual(MAX_EXEMPLARS);
    expect(Object.values(m.tools).reduce((x, y) => x + y, 0)).toBe(120);
    expect(() => mergeProfiles(a, profileOf(3, [report({ server_name: "calendar" })]))).toThrow(/different servers/);
  });
});

describe("representatives", () => {
  it("medoid is the member closest to the centroid", () => {
    const near = signatureOf(report()).terms;
    const alsoNear = signatureOf(report({ what_i_needed: "filter costs by date range please" })).terms;
    const far = signatureOf(report({ what_i_needed: "refund", what_i_tried: "x", suggestion: null })).terms;
    expect(
      medoid([
        { id: 1, terms: far },
        { id: 2, terms: near },
        { id: 3, terms: alsoNear },
      ]),
    ).toBe(2);
    expect(medoid([])).toBeNull();
  });

  it("topSuggestions collapses near-identical wordings and ranks by count", () => {
    const top = topSuggestions([
      { id: 1, suggestion: "Add start_date and end_date parameters to get_costs." },
      { id: 2, suggestion: "add a refund tool" },
      { id: 3, suggestion: "add start_date and end_date params to get_costs" },
      { id: 4, suggestion: null },
      { id: 5, suggestion: "Add start date and end date parameter to get_costs" },
    ]);
    expect(top.map((g) => [g.count, g.ids])).toEqual([
      [3, [1, 3, 5]],
      [1, [2]],
    ]);
  });
});
