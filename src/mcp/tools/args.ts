/** Argument schemas shared by several report tools. */
import { z } from "zod";
import { reportFilterShape, type ReportFilter } from "../../store/index.js";

/**
 * An id as a number or a numeric string ("42", "#42"): agents send both.
 * `noun` names the thing ("report"), `example` is a sample id and `listTool` the tool that shows ids.
 */
export function idArg(noun: string, example: number, listTool: string) {
  const message = `must be a ${noun} id (a positive whole number, e.g. ${example})`;
  return z
    .union(
      [
        z
          .number({ error: message })
          .int({ error: message })
          .positive({ error: message })
          .max(Number.MAX_SAFE_INTEGER, { error: message }),
        z
          .string({ error: message })
          .trim()
          .regex(/^#?\d{1,15}$/, { error: message })
          .transform((s) => Number(s.replace("#", "")))
          .refine((n) => n > 0, { error: message }),
      ],
      { error: message },
    )
    .describe(`The ${noun} id, as shown by ${listTool}.`);
}

/** A report id as a number or a numeric string ("42", "#42"). */
export const reportIdArg = idArg("report", 42, "list_reports");

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
