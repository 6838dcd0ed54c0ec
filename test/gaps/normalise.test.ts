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

  it("reads general synonyms, abbreviations and spellings of one word as one term", () => {
    const same: [string, string][] = [
      ["re-run the build", "retrigger the build"],
      ["restart the job", "retry the job"],
      ["the artefacts", "the artifacts"],
      ["by state", "by status"],
      ["qty", "quantity"],
      ["vendor", "supplier"],
      ["roll back the deploy", "revert the deploy"],
      ["log in first", "login first"],
      ["a PO", "a purchase order"],
      ["custom attributes", "custom fields"],
    ];
    for (const [a, b] of same) expect(tokens(a), `${a} ~ ${b}`).toEqual(tokens(b));
  });

  it("keeps words apart that only look alike", () => {
    // "page" alone is a page (views, a wiki page), not paging; "next page" and "page size" are paging.
    expect(tokens("page views")).not.toContain("paginate");
    expect(tokens("the next page")).toContain("paginate");
    expect(tokens("duplicate contacts")).not.toEqual(tokens("copy contacts"));
    expect(tokens("log output")).not.toEqual(tokens("login output"));
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
