/**
 * drop-ins/spec is generated from src/feedback: fail when it is stale, and
 * prove its vectors against a real sidecar (each valid vector stores exactly
 * its expected report, each invalid one is refused naming its fields).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSpec, staleFiles, SPEC_DIR } from "../../scripts/generate-spec.js";
import { startServe, tempDir, type ServeProcess } from "../helpers/serve.js";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

interface Vectors {
  stored_fields: string[];
  valid: Array<{ name: string; input: unknown; stored: Record<string, unknown> }>;
  invalid: Array<{ name: string; input: unknown; status: number; issues: Array<{ field: string; message: string }> }>;
}

describe("drop-ins/spec", () => {
  it("is up to date with src/feedback (run `npm run spec` when this fails)", () => {
    expect(staleFiles()).toEqual([]);
  });

  it("detects a stale or missing file", () => {
    const dir = tempDir("pwm-spec-");
    for (const [name, content] of Object.entries(buildSpec())) writeFileSync(join(dir, name), content);
    expect(staleFiles(dir)).toEqual([]);
    writeFileSync(join(dir, "tool.json"), buildSpec()["tool.json"]!.replace("feedback", "feedbacks"));
    rmSync(join(dir, "replies.json"));
    expect(staleFiles(dir).sort()).toEqual(["replies.json", "tool.json"]);
  });

  it("carries the tool definition, instructions and reply templates", () => {
    const tool = JSON.parse(readFileSync(join(SPEC_DIR, "tool.json"), "utf8")) as {
      name: string;
      inputSchema: { required: string[]; properties: Record<string, { enum?: string[] }> };
    };
    expect(tool.name).toBe("feedback");
    expect(tool.inputSchema.required).toEqual(["what_i_needed", "what_i_tried", "gap_type"]);
    expect(tool.inputSchema.properties.gap_type?.enum).toContain("missing_tool");
    const replies = JSON.parse(readFileSync(join(SPEC_DIR, "replies.json"), "utf8")) as Record<string, string>;
    expect(replies.recorded).toContain("{id}");
    expect(replies.invalid).toContain("{details}");
  });
});

describe("spec vectors against a real sidecar", () => {
  let sidecar: ServeProcess;
  const vectors = JSON.parse(readFileSync(join(SPEC_DIR, "vectors.json"), "utf8")) as Vectors;

  beforeAll(async () => {
    sidecar = await startServe();
  });
  afterAll(async () => {
    await sidecar?.stop();
  });

  const post = (body: unknown, key?: string) =>
    fetch(`${sidecar.url}/api/feedback`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(key ? { "idempotency-key": key } : {}) },
      body: JSON.stringify(body),
    });

  it("stores every valid vector exactly as the spec says", async () => {
    expect(vectors.valid.length).toBeGreaterThanOrEqual(8);
    for (const v of vectors.valid) {
      const res = await post(v.input);
      expect(res.status, v.name).toBe(201);
      const { id } = (await res.json()) as { id: number };
      const report = (await (await fetch(`${sidecar.url}/api/feedback/${id}`)).json()) as Record<string, unknown>;
      const picked = Object.fromEntries(vectors.stored_fields.map((f) => [f, report[f]]));
      expect(picked, v.name).toEqual(v.stored);
    }
  });

  it("refuses every invalid vector with the status and field issues the spec says", async () => {
    for (const v of vectors.invalid) {
      const res = await post(v.input);
      expect(res.status, v.name).toBe(v.status);
      const body = (await res.json()) as { error: { code: string; details: unknown } };
      expect(body.error.code, v.name).toBe("validation_failed");
      expect(body.error.details, v.name).toEqual(v.issues);
    }
  });
});
