/** `add_note`: append a reviewer's note to a report. Notes are append-only (the database refuses edits). */
import { z } from "zod";
import { noteInputShape } from "../../store/index.js";
import { reportIdArg } from "./args.js";
import { defineTool, ToolError } from "./types.js";

export const addNoteTool = defineTool({
  name: "add_note",
  title: "Add a note to a report",
  description:
    "Append a note to a feedback report (triage reasoning, a link to the fix, why it was dismissed). " +
    "Notes are append-only: they cannot be edited or deleted afterwards.",
  scope: "admin",
  input: z.object({
    id: reportIdArg,
    ...noteInputShape,
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  run({ id, body, author }, { store }) {
    const note = store.addNote(id, body, author);
    if (!note) throw new ToolError(`There is no report ${id}; no note was added.`);
    return {
      text: `Added note ${note.id} to report ${id}.`,
      structured: { note_id: note.id, report_id: id, created_at: note.created_at },
    };
  },
});
