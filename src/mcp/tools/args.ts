/** Argument schemas shared by several report tools. */
import { z } from "zod";
import { reportFilterShape, type ReportFilter } from "../../store/index.js";

const ID_MESSAGE = "must be a report id (a positive whole number, e.g. 42)";

/** A report id as a number or a numeric string ("42", "#42"): agents send both. */
export const reportIdArg = z
  .union(
    [
      z
        .number({ error: ID_MESSAGE })
        .int({ error: ID_MESSAGE })
        .positive({ error: ID_MESSAGE })
        .max(Number.MAX_SAFE_INTEGER, { error: ID_MESSAGE }),
      z
        .string({ error: ID_MESSAGE })
        .trim()
        .regex(/^#?\d{1,15}$/, { error: ID_MESSAGE })
        .transform((s) => Number(s.replace("#", "")))
        .refine((n) => n > 0, { error: ID_MESSAGE }),
    ],
    { error: ID_MESSAGE },
  )
  .describe("The report id, as shown by list_reports.");

const { q, ...equalityAndDates } = reportFilterShape;

/** The store's report filter as tool arguments: the full-text field is called `query` (clearer to agents than `q`). */
export const reportFilterArgs = {
  ...equalityAndDates,
  query: q.describe(
    "Full-text search over what the agent needed and tried, the suggestion, goal, tool and server names.",
  ),
};

/** Tool arguments back to the store's filter shape. */
export function toStoreFilter<T extends { query?: string | undefined }>(
  args: T,
): Omit<T, "query"> & Pick<ReportFilter, "q"> {
  const { query, ...rest } = args;
  return query === undefined ? rest : { ...rest, q: query };
}
