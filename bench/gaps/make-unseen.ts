/**
 * Generates bench/gaps/unseen.jsonl: a third labelled corpus, written by hand AFTER the grouping
 * parameters froze (never tune against it: its figures are the honest estimate on unseen text).
 * Three servers not in the other corpora, and another style again: terse log-like lines, long
 * multi-sentence accounts, non-native phrasing, typos, one tool with several filter needs.
 *   npx tsx bench/gaps/make-unseen.ts
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { GapType } from "../../src/feedback/index.js";
import type { CorpusReport } from "./make-corpus.js";

/** [what_i_needed, what_i_tried, suggestion, tool_name, gap_type] */
type R = [string, string, string | null, string | null, GapType];

const GAPS: Record<string, Record<string, R[]>> = {
  ci: {
    "builds-by-branch": [
      [
        "ERR ci_list_builds: no branch filter",
        "ci_list_builds() -> 200 builds, all branches",
        null,
        "ci_list_builds",
        "missing_parameter",
      ],
      [
        "I am needing only the builds of the release/2.4 branch, please make it possible to give the branch",
        "ci_list_builds and then I dropped the other branches myself",
        "branch parameter",
        "ci_list_builds",
        "missing_parameter",
      ],
      [
        "The user asked why the nightly on feature/payments keeps failing. To answer I had to look at the recent builds of that one branch, but the build listing has no way to restrict it to a branch, so I paged through 600 builds from every branch and filtered them in my head. That took eleven calls and I am still not sure I saw them all.",
        "ci_list_builds(page=1..11)",
        "Let ci_list_builds take branch (and maybe a glob like release/*).",
        "ci_list_builds",
        "missing_parameter",
      ],
      [
        "builds for branch main only",
        "ci_list_builds(branch='main') -> unknown argument",
        null,
        null,
        "missing_parameter",
      ],
    ],
    "builds-by-status": [
      [
        "list only failed builds",
        "ci_list_builds returns passed ones too",
        "status filter (failed, passed, cancelled)",
        "ci_list_builds",
        "missing_parameter",
      ],
      ["ci_list_builds: want status=failed", "status arg rejected", null, "ci_list_builds", "missing_parameter"],
      [
        "Show me the builds that are red right now so I can triage. There's no filter by result/status on the list.",
        "read every build's status field",
        null,
        "ci_list_builds",
        "missing_parameter",
      ],
      [
        "filtr builds by there state, only the broken one",
        "ci_list_builds",
        "state param",
        "ci_list_builds",
        "missing_parameter",
      ],
    ],
    "build-logs": [
      [
        "need the log output of a failed job",
        "ci_get_build gives status + duration, no log",
        "ci_get_job_log(build_id, job)",
        "ci_get_build",
        "incomplete_results",
      ],
      ["Get console logs for build #4471", "no log tool", null, null, "missing_tool"],
      [
        "The test job failed with exit code 1 but I cannot see why; the server never returns the job's stdout/stderr, which is the only place the failing assertion is printed.",
        "ci_get_build(id=88123) and ci_list_jobs",
        "Expose the job log, ideally the tail or a byte range.",
        "ci_get_build",
        "incomplete_results",
      ],
      ["cant read build log", "-", null, null, "missing_tool"],
      ["fetch job output text", "ci_list_jobs shows only names", "log endpoint", "ci_list_jobs", "missing_tool"],
    ],
    "retry-build": [
      ["Re-run a flaky build", "no retry", "ci_retry_build(build_id)", null, "missing_tool"],
      [
        "restart the failed pipeline without pushing a new commit",
        "looked for rerun/restart/retry",
        null,
        null,
        "missing_tool",
      ],
      [
        "WARN: cannot retrigger build 9912",
        "ci_trigger_build needs a commit, and the user does not want an empty commit",
        "retry tool",
        "ci_trigger_build",
        "missing_tool",
      ],
      [
        "I would like to retry only the failed jobs of the build, the other ones passed already.",
        "nothing",
        "retry with failed_only flag",
        null,
        "missing_tool",
      ],
    ],
    artifacts: [
      [
        "download the build artifacts (the coverage report)",
        "ci_get_build has no artifact links",
        "list_artifacts + get_artifact",
        "ci_get_build",
        "missing_tool",
      ],
      [
        "Where are the artefacts of the build? I need the compiled binary from build 512.",
        "searched all tools",
        null,
        null,
        "missing_tool",
      ],
      ["artifact list missing", "ci_get_build(id=512)", null, "ci_get_build", "incomplete_results"],
    ],
    "pipeline-duration-format": [
      [
        "Durations come back as '1h2m3s' strings, I need seconds as a number to sum them",
        "parsed the string by hand",
        "duration_seconds integer",
        "ci_list_builds",
        "wrong_format",
      ],
      ["build duration is a string not a number", "ci_get_build", null, "ci_get_build", "wrong_format"],
      [
        "Computing the average build time was painful because the duration field is a human-readable text like '12m 4s' instead of a number of seconds.",
        "regex on every build",
        "Return the duration in seconds.",
        null,
        "wrong_format",
      ],
    ],
  },
  inventory: {
    "stock-by-warehouse": [
      [
        "stock level per warehouse",
        "inv_get_item gives one total quantity",
        "per-location quantities",
        "inv_get_item",
        "incomplete_results",
      ],
      [
        "How many units of SKU-1182 do we have in the Rotterdam warehouse specifically? The item tool only tells the quantity summed across all locations.",
        "inv_get_item(sku='SKU-1182')",
        "Break quantity down by warehouse.",
        "inv_get_item",
        "incomplete_results",
      ],
      ["qty by location missing", "inv_get_item", null, "inv_get_item", "incomplete_results"],
      [
        "I need to know what is on hand in each depot, not the global number.",
        "no location field",
        null,
        null,
        "incomplete_results",
      ],
    ],
    "items-by-category": [
      [
        "list items by category",
        "inv_list_items has no category argument",
        "category filter",
        "inv_list_items",
        "missing_parameter",
      ],
      [
        "only the items in the 'cables' category please",
        "inv_list_items returned 3000 items",
        null,
        "inv_list_items",
        "missing_parameter",
      ],
      [
        "filter the catalogue on product category",
        "listed everything",
        "inv_list_items(category)",
        "inv_list_items",
        "missing_parameter",
      ],
    ],
    "items-by-supplier": [
      [
        "list items from one supplier",
        "inv_list_items has no supplier filter",
        "supplier_id filter",
        "inv_list_items",
        "missing_parameter",
      ],
      [
        "Which products do we buy from Acme Corp? I could not narrow the item list by supplier/vendor.",
        "inv_list_items then looked at supplier field of each",
        null,
        "inv_list_items",
        "missing_parameter",
      ],
      ["inv_list_items supplier=ACME -> ignored", "-", null, "inv_list_items", "missing_parameter"],
    ],
    "stock-adjust": [
      [
        "Adjust the stock count after a cycle count (we found 4 less)",
        "inv_update_item can change name and price only",
        "inv_adjust_stock(sku, delta, reason)",
        "inv_update_item",
        "missing_tool",
      ],
      ["need to write off damaged units", "no stock adjustment tool", null, null, "missing_tool"],
      [
        "correct inventory quantity",
        "inv_update_item(quantity=12) -> field is read-only",
        "allow quantity changes with a reason",
        "inv_update_item",
        "missing_parameter",
      ],
      [
        "The warehouse manager counted the shelf and it has 37 pieces while the system says 41. I wanted to record the correction with a reason code, but there is no way to change the on-hand quantity.",
        "tried inv_update_item",
        null,
        null,
        "missing_tool",
      ],
    ],
    "reorder-alerts": [
      [
        "which items are below their reorder point",
        "inv_list_items has no low-stock filter",
        "low_stock=true",
        "inv_list_items",
        "missing_parameter",
      ],
      ["show me low stock items", "read all 3000 items", null, null, "missing_parameter"],
      [
        "Items that run out soon / under minimum level",
        "no such filter",
        "below_reorder_point filter",
        "inv_list_items",
        "missing_parameter",
      ],
    ],
    "purchase-order": [
      [
        "create a purchase order to the supplier",
        "no PO tools",
        "inv_create_purchase_order(supplier, lines)",
        null,
        "missing_tool",
      ],
      [
        "I want to place a reorder with the vendor for 200 units",
        "nothing to create orders",
        null,
        null,
        "missing_tool",
      ],
      ["PO creation not supported", "-", null, null, "missing_tool"],
    ],
  },
  analytics: {
    "events-date-range": [
      [
        "count signups between 1 March and 31 March",
        "an_count_events only counts all time",
        "from/to on an_count_events",
        "an_count_events",
        "missing_parameter",
      ],
      [
        "an_count_events: no time window",
        "an_count_events(event='purchase')",
        null,
        "an_count_events",
        "missing_parameter",
      ],
      [
        "The marketing lead wanted to know how many people completed checkout last week compared to the week before. The count tool only gives me the lifetime total, there is no date range, so I cannot answer either number.",
        "an_count_events(event='checkout_completed')",
        "Add start and end timestamps.",
        "an_count_events",
        "missing_parameter",
      ],
      ["events since yesterday only", "no since param", null, null, "missing_parameter"],
    ],
    "events-by-property": [
      [
        "count events by country",
        "an_count_events gives one number",
        "group_by property",
        "an_count_events",
        "missing_parameter",
      ],
      [
        "breakdown of purchases per plan (free/pro/team)",
        "one total only",
        null,
        "an_count_events",
        "missing_parameter",
      ],
      [
        "I have to split the page views by browser, the tool sums everything together",
        "an_count_events(event='pageview')",
        "a group by argument",
        "an_count_events",
        "missing_parameter",
      ],
    ],
    funnel: [
      [
        "conversion funnel signup -> activation -> purchase",
        "three separate counts, cannot link the same users",
        "an_funnel(steps)",
        null,
        "missing_tool",
      ],
      [
        "How many of the users who started the trial went on to pay? I need a funnel where each step is the same people, not three unrelated totals.",
        "an_count_events three times",
        null,
        null,
        "missing_tool",
      ],
      ["funnel analysis missing", "-", null, null, "missing_tool"],
      ["step conversion rates between events", "nothing", "funnel tool", null, "missing_tool"],
    ],
    "user-timeline": [
      [
        "all events of one user in order",
        "an_count_events only aggregates",
        "an_user_events(user_id)",
        null,
        "missing_tool",
      ],
      ["show what user 88172 did in the app yesterday", "no per-user tool", null, null, "missing_tool"],
      [
        "Support asked what a specific customer clicked before the crash. I could not get the sequence of events for that single person.",
        "searched the tools",
        null,
        null,
        "missing_tool",
      ],
    ],
    "export-raw": [
      ["export raw events as CSV", "no export", "an_export_events(format)", null, "missing_tool"],
      ["download the event data to analyse in a notebook", "nothing", null, null, "missing_tool"],
      ["dump events to file (csv or parquet)", "-", null, null, "missing_tool"],
    ],
  },
};

/** One-off needs: [server, need, tried, tool, type] */
const SINGLES: [string, string, string, string | null, GapType][] = [
  ["ci", "cancel a running build", "no cancel tool", null, "missing_tool"],
  ["ci", "see which tests are flaky over the last 30 runs", "nothing", null, "missing_tool"],
  [
    "ci",
    "ci_list_builds returns timestamps in local time without offset",
    "compared with UI",
    "ci_list_builds",
    "wrong_format",
  ],
  ["inventory", "barcode lookup (EAN-13)", "inv_get_item only takes SKU", "inv_get_item", "missing_parameter"],
  ["inventory", "item images are missing from the response", "inv_get_item", "inv_get_item", "incomplete_results"],
  ["inventory", "transfer stock between two warehouses", "no transfer tool", null, "missing_tool"],
  ["analytics", "list all event names that exist", "had to guess event names", null, "missing_tool"],
  ["analytics", "retention cohort table by signup week", "none", null, "missing_tool"],
  [
    "analytics",
    "an_count_events result is a string '1,204' not a number",
    "an_count_events",
    "an_count_events",
    "wrong_format",
  ],
];

export function makeUnseen(): CorpusReport[] {
  const out: Omit<CorpusReport, "id">[] = [];
  for (const [server, gaps] of Object.entries(GAPS)) {
    for (const [key, reports] of Object.entries(gaps)) {
      for (const [need, tried, suggestion, tool, type] of reports) {
        out.push({
          gap: `${server}/${key}`,
          server_name: server,
          tool_name: tool,
          gap_type: type,
          resolution: null,
          what_i_needed: need,
          what_i_tried: tried,
          suggestion,
          user_goal: null,
        });
      }
    }
  }
  SINGLES.forEach(([server, need, tried, tool, type], i) => {
    out.push({
      gap: `${server}/single-${i}`,
      server_name: server,
      tool_name: tool,
      gap_type: type,
      resolution: null,
      what_i_needed: need,
      what_i_tried: tried,
      suggestion: null,
      user_goal: null,
    });
  });
  // A fixed interleaving (every 5th item, cycling) so that one gap's reports do not arrive together.
  const order: typeof out = [];
  for (let start = 0; start < 5; start++) for (let i = start; i < out.length; i += 5) order.push(out[i]!);
  return order.map((r, i) => ({ id: i + 1, ...r }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const corpus = makeUnseen();
  const path = fileURLToPath(new URL("./unseen.jsonl", import.meta.url));
  writeFileSync(path, `${corpus.map((r) => JSON.stringify(r)).join("\n")}\n`);
  console.log(`wrote ${corpus.length} reports, ${new Set(corpus.map((r) => r.gap)).size} gaps to ${path}`);
}
