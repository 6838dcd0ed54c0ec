/** PUT /api/settings and the `.env` beside the database, against a real `patchworkmcp serve`. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { request } from "../helpers/http.js";
import { startServe, type ServeProcess } from "../helpers/serve.js";

const ADMIN = "admin-key-for-env-tests-0001";
let serve: ServeProcess;

beforeAll(async () => {
  serve = await startServe({ env: { FEEDBACK_API_KEY: ADMIN, GITHUB_TOKEN: "", OPENAI_API_KEY: "" } });
});
afterAll(async () => {
  await serve?.stop();
});

const put = (secrets: Record<string, unknown>) =>
  request(`${serve.url}/api/settings`, { method: "PUT", key: ADMIN, body: { secrets } });

it("refuses a secret with a line or paragraph separator with a 422 naming the field, and stores nothing", async () => {
  for (const separator of ["\u2028", "\u2029", "\u0085"]) {
    const res = await put({ github_token: `ghp_abc${separator}def` });
    expect(res.status, JSON.stringify(separator)).toBe(422);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.message).toMatch(/github_token must not contain control characters or line breaks/);
  }
  const view = await request(`${serve.url}/api/settings`, { key: ADMIN });
  expect(view.body.secrets.github_token.set).toBe(false);
});

it("saves a value with $(…) in single quotes and removes its line when cleared", async () => {
  const envPath = join(serve.envDir, ".env");
  expect((await put({ openai_api_key: "sk-$(id)-`id`" })).status).toBe(200);
  expect(readFileSync(envPath, "utf8")).toBe("OPENAI_API_KEY='sk-$(id)-`id`'\n");
  expect((await put({ openai_api_key: null })).status).toBe(200);
  expect(readFileSync(envPath, "utf8")).toBe("");
});
