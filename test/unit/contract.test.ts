import { describe, expect, it } from "vitest";
import {
  FEEDBACK_SERVER_INSTRUCTIONS,
  feedbackToolDefinition,
  GAP_TYPES,
  LIMITS,
  normaliseToolsAvailable,
  parseFeedback,
  RESOLUTIONS,
} from "../../src/feedback/index.js";

describe("the feedback tool definition", () => {
  const def = feedbackToolDefinition();

  it("derives a complete JSON Schema from the zod schema", () => {
    const schema = def.inputSchema as {
      type: string;
      properties: Record<string, { enum?: string[]; description?: string; maxLength?: number }>;
      required: string[];
    };
    expect(def.name).toBe("feedback");
    expect(schema.type).toBe("object");
    expect(schema).not.toHaveProperty("$schema");
    expect(schema.required.sort()).toEqual(["gap_type", "what_i_needed", "what_i_tried"]);
    expect(schema.properties.gap_type!.enum).toEqual([...GAP_TYPES]);
    expect(schema.properties.resolution!.enum).toEqual([...RESOLUTIONS]);
    expect(schema.properties.what_i_needed!.maxLength).toBe(LIMITS.what_i_needed);
    for (const [name, prop] of Object.entries(schema.properties)) expect(prop.description, name).toBeTruthy();
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining([
        "server_name",
        "server_version",
        "tool_name",
        "tools_available",
        "agent_model",
        "session_id",
        "client_type",
        "suggestion",
        "user_goal",
      ]),
    );
  });

  it("tells agents when to call it, and is annotated honestly", () => {
    for (const trigger of ["missing_tool", "incomplete_results", "approximate", "cannot be done", "BEFORE"]) {
      expect(def.description).toContain(trigger);
    }
    expect(FEEDBACK_SERVER_INSTRUCTIONS).toContain("before your final answer");
    expect(def.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: false, openWorldHint: false });
    expect(feedbackToolDefinition("report_gap").name).toBe("report_gap");
  });
});

describe("parseFeedback", () => {
  const base = { what_i_needed: "x", what_i_tried: "y", gap_type: "other" };

  it("fills server_name from defaults, then 'unknown'", () => {
    expect(parseFeedback(base)).toMatchObject({ ok: true, payload: { server_name: "unknown" } });
    expect(parseFeedback(base, { server_name: "proxy-name" })).toMatchObject({
      ok: true,
      payload: { server_name: "proxy-name" },
    });
    expect(parseFeedback({ ...base, server_name: "own" }, { server_name: "proxy-name" })).toMatchObject({
      payload: { server_name: "own" },
    });
  });

  it("is liberal about tools_available", () => {
    expect(normaliseToolsAvailable(null)).toEqual([]);
    expect(normaliseToolsAvailable('["a", "b"]')).toEqual(["a", "b"]);
    expect(normaliseToolsAvailable("a,, b ")).toEqual(["a", "b"]);
    expect(normaliseToolsAvailable("[not json")).toEqual(["[not json"]);
    expect(normaliseToolsAvailable(["x"])).toEqual(["x"]);
  });

  it("enforces limits with clear messages", () => {
    const tooMany = parseFeedback({
      ...base,
      tools_available: Array.from({ length: LIMITS.tools_available_items + 1 }, (_, i) => `t${i}`),
    });
    expect(tooMany).toEqual({
      ok: false,
      issues: [
        { field: "tools_available", message: `tools_available may list at most ${LIMITS.tools_available_items} tools` },
      ],
    });
    const long = parseFeedback({ ...base, user_goal: "g".repeat(LIMITS.user_goal + 1) });
    expect(long).toEqual({
      ok: false,
      issues: [{ field: "user_goal", message: `user_goal must be at most ${LIMITS.user_goal} characters` }],
    });
    expect(parseFeedback({ ...base, what_i_tried: "   " })).toMatchObject({
      ok: false,
      issues: [{ field: "what_i_tried" }],
    });
  });

  it("passes the idempotency key through separately", () => {
    const r = parseFeedback({ ...base, idempotency_key: "abc" });
    expect(r).toMatchObject({ ok: true, idempotencyKey: "abc" });
    if (r.ok) expect(r.payload).not.toHaveProperty("idempotency_key");
  });
});
