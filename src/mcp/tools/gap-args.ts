/** Argument schemas shared by the gap tools. */
import { z } from "zod";

const ID_MESSAGE = "must be a gap id (a positive whole number, e.g. 12)";

/** A gap id as a number or a numeric string ("12", "#12"). */
export const gapIdArg = z
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
  .describe("The gap id, as shown by list_gaps.");
