/**
 * The fields of a new note, as both front ends accept them (REST
 * `POST /api/feedback/:id/notes` and the MCP `add_note` tool). A blank author
 * means no author: it is stored as null, the same as leaving it out.
 */
import { z } from "zod";

export const NOTE_MAX = 10_000;
export const NOTE_AUTHOR_MAX = 100;

export const noteInputShape = {
  body: z
    .string({ error: "body is required and must be a string" })
    .trim()
    .min(1, { error: "body must not be empty" })
    .max(NOTE_MAX, { error: `body must be at most ${NOTE_MAX} characters` })
    .describe("The note text (Markdown is kept as written)."),
  author: z
    .string({ error: "author must be a string" })
    .trim()
    .max(NOTE_AUTHOR_MAX, { error: `author must be at most ${NOTE_AUTHOR_MAX} characters` })
    .transform((a) => (a === "" ? undefined : a))
    .optional()
    .describe("Who is writing the note, e.g. a name or 'claude-code' (blank means none)."),
};
