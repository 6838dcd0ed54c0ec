/**
 * The change set the model must return: ONE zod schema, from which the JSON
 * Schema given to both providers is derived, and with which the model's
 * answer is validated again (never trust the model to follow its schema).
 *
 * The shape is flat (nullable fields rather than a union) so it fits the
 * strictest structured-output dialect (OpenAI `strict: true`).
 */
import { z } from "zod";

export const CHANGE_SET_LIMITS = {
  files: 20,
  editsPerFile: 30,
  fileBytes: 200_000,
  totalBytes: 1_000_000,
  title: 200,
  commitMessage: 5_000,
  body: 20_000,
} as const;

export const CHANGE_SET_RATIONALE_MAX = 2_000;

export const searchReplaceSchema = z
  .object({
    search: z
      .string()
      .describe("Exact text copied from the current file, including whitespace; it must occur exactly once."),
    replace: z.string().describe("The text that replaces it."),
  })
  .strict();

export const fileChangeSchema = z
  .object({
    path: z.string().describe("Repository-relative path with forward slashes, e.g. src/tools/search.ts"),
    action: z.enum(["create", "edit", "delete"]).describe("create a new file, edit an existing one, or delete one"),
    content: z.string().nullable().describe("create: the whole new file. edit/delete: null."),
    edits: z
      .array(searchReplaceSchema)
      .nullable()
      .describe("edit: search-and-replace blocks applied in order. create/delete: null."),
  })
  .strict();

export const changeSetSchema = z
  .object({
    files: z.array(fileChangeSchema).describe(`The files to change (1 to ${CHANGE_SET_LIMITS.files}).`),
    commit_message: z.string().describe("Commit message: a short summary line, a blank line, then details."),
    pr_title: z.string().describe("Pull request title, under 80 characters."),
    pr_body: z
      .string()
      .describe(
        "Pull request description in Markdown: what the agent could not do, what changed and why, how to test.",
      ),
    // Optional when parsing (answers from before these fields still validate; absent confidence counts as 0),
    // required in the JSON Schema the model is given (strictJsonSchema lists every property).
    confidence: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe(
        "How sure you are, from 0 to 1, that this change is correct, complete and safe to open as a draft PR as it is.",
      ),
    rationale: z
      .string()
      .max(CHANGE_SET_RATIONALE_MAX)
      .optional()
      .describe("One or two sentences: why this change addresses the gap, and what makes you more or less confident."),
  })
  .strict();

export type ChangeSet = z.output<typeof changeSetSchema>;
export type FileChange = z.output<typeof fileChangeSchema>;

/** Bounds enforced after parsing (kept out of the JSON Schema, which strict modes restrict). */
export const boundedChangeSetSchema = changeSetSchema.superRefine((cs, ctx) => {
  if (cs.files.length === 0)
    ctx.addIssue({ code: "custom", path: ["files"], message: "the change set changes no file" });
  if (cs.files.length > CHANGE_SET_LIMITS.files)
    ctx.addIssue({
      code: "custom",
      path: ["files"],
      message: `at most ${CHANGE_SET_LIMITS.files} files per change set`,
    });
  if (!cs.pr_title.trim()) ctx.addIssue({ code: "custom", path: ["pr_title"], message: "the PR title is empty" });
  if (cs.pr_title.length > CHANGE_SET_LIMITS.title)
    ctx.addIssue({
      code: "custom",
      path: ["pr_title"],
      message: `the PR title is longer than ${CHANGE_SET_LIMITS.title} characters`,
    });
  if (!cs.commit_message.trim())
    ctx.addIssue({ code: "custom", path: ["commit_message"], message: "the commit message is empty" });
  if (cs.commit_message.length > CHANGE_SET_LIMITS.commitMessage)
    ctx.addIssue({ code: "custom", path: ["commit_message"], message: "the commit message is too long" });
  if (cs.pr_body.length > CHANGE_SET_LIMITS.body)
    ctx.addIssue({ code: "custom", path: ["pr_body"], message: "the PR body is too long" });
});

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Keywords every structured-output dialect accepts; the rest (e.g. `$schema`) are dropped. */
const KEEP = new Set([
  "type",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "enum",
  "anyOf",
  "description",
]);

function strictify(node: Json): Json {
  if (Array.isArray(node)) return node.map(strictify);
  if (node === null || typeof node !== "object") return node;
  const out: { [key: string]: Json } = {};
  for (const [k, v] of Object.entries(node)) {
    if (!KEEP.has(k)) continue;
    out[k] =
      k === "properties" && v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, strictify(pv)]))
        : strictify(v);
  }
  if (out.type === "object" && out.properties && typeof out.properties === "object" && !Array.isArray(out.properties)) {
    out.required = Object.keys(out.properties);
    out.additionalProperties = false;
  }
  return out;
}

/** A zod schema's JSON Schema in the strict dialect (all properties required, no extras). */
export function strictJsonSchema(schema: z.ZodType): { [key: string]: unknown } {
  return strictify(z.toJSONSchema(schema, { target: "draft-7", io: "output" }) as Json) as { [key: string]: unknown };
}

/** The JSON Schema of the change set, in the strict dialect. */
export const CHANGE_SET_JSON_SCHEMA: { [key: string]: unknown } = strictJsonSchema(changeSetSchema);

export const CHANGE_SET_TOOL_NAME = "submit_change_set";
