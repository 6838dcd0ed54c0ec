import { describe, expect, it } from "vitest";
import { normaliseText, tokens } from "../../src/gaps/normalise.js";
import { stem } from "../../src/gaps/stem.js";

describe("normaliseText", () => {
  it("replaces volatile parts with placeholders", () => {
    const s = normaliseText(
      "See https://app.acme.io/x?y=1, mail ops@acme.io, id 550e8400-e29b-41d4-a716-446655440000, on 2024-03-01 " +
        "at 10:30, file /var/log/app.log, run run_8f3a2c, hash deadbeef42, inv-00123, 250 rows",
    );
    for (const p of ["<url>", "<email>", "<uuid>", "<date>", "<time>", "<path>", "<id>", "<hex>", "<num>"])
      expect(s).toContain(p);
    expect(s).not.toMatch(/acme|550e8400|2024|8f3a2c|deadbeef|00123|250/);
  });

  it("reads other date shapes as dates", () => {
    expect(normaliseText("from March 3, 2024 to 12/15/2024")).toBe("daterange");
    expect(normaliseText("on 3rd of March 2024")).toBe("on <date>");
  });

  it("splits identifiers and keeps tool-like names readable", () => {
    expect(tokens("getCosts and list_invoices and get_costs_v2")).toEqual([
      "get",
      "cost",
      "get",
      "invoic",
      "get",
      "cost",
      "v2",
    ]);
  });

  it("maps general API phrasings of one idea to one token", () => {
    for (const s of [
      "a date range",
      "a time window",
      "between two dates",
      "start_date and end_date",
      "since 2024-01-01",
      "last month",
    ]) {
      expect(tokens(s), s).toContain("daterange");
    }
    expect(tokens("fetch")).toEqual(tokens("retrieve"));
    expect(tokens("restrict")).toEqual(tokens("filter"));
  });

  it("drops stopwords", () => {
    expect(tokens("I would need the tool to be able to do this")).toEqual([]);
  });
});

describe("stem", () => {
  it("brings inflections of a word to one stem", () => {
    expect(new Set(["filter", "filters", "filtering", "filtered"].map(stem))).toEqual(new Set(["filter"]));
    expect(new Set(["create", "creating", "created", "creation"].map(stem)).size).toBe(1);
    expect(stem("queries")).toBe(stem("query"));
    expect(stem("running")).toBe("run");
    expect(stem("monthly")).toBe(stem("month"));
  });

  it("leaves short words and non-words alone", () => {
    expect(stem("bus")).toBe("bus");
    expect(stem("v2")).toBe("v2");
    expect(stem("class")).toBe("class");
  });
});
