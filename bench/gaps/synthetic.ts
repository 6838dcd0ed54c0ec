/**
 * A seeded stream of synthetic reports for load figures: many servers, many gaps per server,
 * each gap a template with random-but-seeded variation (ids, dates, numbers, word choice).
 */
import type { GapType } from "../../src/feedback/index.js";
import type { GroupingInput } from "../../src/gaps/index.js";
import { fill, Rng } from "./rng.js";

const OBJECTS = [
  "invoice",
  "customer",
  "event",
  "page",
  "file",
  "table",
  "issue",
  "commit",
  "order",
  "user",
  "project",
  "report",
  "ticket",
  "alert",
  "metric",
  "job",
  "webhook",
  "device",
  "contact",
  "message",
];
const ASPECTS = [
  "date range",
  "status",
  "owner",
  "tag",
  "region",
  "currency",
  "priority",
  "size",
  "author",
  "type",
  "name",
  "parent",
  "category",
  "language",
  "version",
];
const VERBS = ["filter", "sort", "group", "export", "search", "paginate", "count", "bulk update", "archive", "restore"];
const GAP_TYPES: GapType[] = ["missing_parameter", "missing_tool", "incomplete_results", "wrong_format", "other"];

export interface SyntheticReport {
  input: GroupingInput;
  gap: number;
}

/** 1,000 servers x up to 60 gap templates each; gaps are drawn with a skew (a few gaps get most reports). */
export function syntheticStream(seed: number): { next(): SyntheticReport } {
  const rng = new Rng(seed);
  const SERVERS = 1000;
  const GAPS_PER_SERVER = 60;
  return {
    next(): SyntheticReport {
      const server = Math.floor(rng.next() ** 2 * SERVERS);
      const local = Math.floor(rng.next() ** 3 * GAPS_PER_SERVER);
      const gap = server * GAPS_PER_SERVER + local + 1;
      const obj = OBJECTS[local % OBJECTS.length]!;
      const aspect = ASPECTS[Math.floor(local / OBJECTS.length) % ASPECTS.length]!;
      const verb = VERBS[Math.floor(local / (OBJECTS.length * ASPECTS.length)) % VERBS.length]!;
      const tool = `${rng.pick(["list", "get", "search"])}_${obj}s`;
      const need = fill(
        rng,
        rng.pick([
          `need to ${verb} ${obj}s by ${aspect}`,
          `${verb} ${obj}s by ${aspect} for {id}`,
          `I could not ${verb} the ${obj} list by ${aspect} (run {run}, {date})`,
          `The user asked me to ${verb} their ${obj}s by ${aspect}; ${tool} has no way to do it, I got {num} rows.`,
        ]),
      );
      return {
        gap,
        input: {
          server_name: `server-${server}`,
          tool_name: rng.chance(0.6) ? tool : null,
          gap_type: GAP_TYPES[local % GAP_TYPES.length]!,
          what_i_needed: need,
          what_i_tried: fill(rng, `called ${tool} with {num} results, nothing to ${verb} by ${aspect}`),
          suggestion: rng.chance(0.5) ? `add a ${aspect} parameter to ${tool}` : null,
          user_goal: null,
        },
      };
    },
  };
}
