/** Shared fixtures for the draft tests: a sample MCP server repo, reports and change sets. */
import { join } from "node:path";
import { parseFeedback } from "../../src/feedback/index.js";
import { FeedbackStore } from "../../src/store/index.js";
import { tempDir } from "../helpers/serve.js";

export const REPO = "acme/weather-mcp";

export const REPO_FILES: Record<string, string> = {
  "README.md": "# weather-mcp\n\nAn MCP server with weather tools.\n",
  "package.json": '{ "name": "weather-mcp", "version": "1.0.0" }\n',
  "src/server.ts": [
    'import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";',
    'import { registerForecast } from "./handlers/forecast.js";',
    "",
    'const server = new McpServer({ name: "weather", version: "1.0.0" });',
    "registerForecast(server);",
    "",
  ].join("\n"),
  // The tool is registered in a file NOT named after it: selection must read contents.
  "src/handlers/forecast.ts": [
    "export function registerForecast(server: any) {",
    '  server.registerTool("get_forecast", { description: "Daily forecast for a city" }, async ({ city }) => {',
    '    return { content: [{ type: "text", text: `Forecast for ${city}` }] };',
    "  });",
    "}",
    "",
  ].join("\n"),
  "src/util/format.ts": "export const celsius = (k: number) => k - 273.15;\n",
  "docs/tools.md": "# Tools\n\n- get_forecast: daily forecast\n",
  ".github/workflows/ci.yml": "name: ci\non: push\njobs: {}\n",
  "assets/logo.png": "\u0000PNG",
};

export const HAPPY_CHANGE_SET = {
  files: [
    {
      path: "src/handlers/forecast.ts",
      action: "edit",
      content: null,
      edits: [
        {
          search: '  server.registerTool("get_forecast", { description: "Daily forecast for a city" }',
          replace:
            '  server.registerTool("get_forecast", { description: "Daily or hourly forecast for a city (hours: optional)" }',
        },
      ],
    },
    {
      path: "docs/hourly.md",
      action: "create",
      content: "# Hourly forecasts\n\nPass `hours` to get_forecast.\n",
      edits: null,
    },
  ],
  commit_message: "Add hourly forecasts to get_forecast\n\nAgents asked for hourly data.",
  pr_title: "get_forecast: support hourly forecasts",
  pr_body: "Agents could not get hourly forecasts. This adds an `hours` option.",
};

export function openTempStore(): { store: FeedbackStore; dir: string; dbPath: string } {
  const dir = tempDir("pwm-draft-");
  const dbPath = join(dir, "feedback.db");
  return { store: FeedbackStore.open(dbPath), dir, dbPath };
}

/** The report the draft tests (and the dashboard's draft test) turn into a PR. */
export const WEATHER_REPORT = {
  server_name: "weather",
  tool_name: "get_forecast",
  what_i_needed: "An hourly forecast for Paris for the next 12 hours",
  what_i_tried: "Called get_forecast with city=Paris; it only returns a daily summary",
  gap_type: "missing_parameter",
  suggestion: "Add an hours parameter to get_forecast",
  tools_available: ["get_forecast", "get_alerts"],
} as const;

export function addReport(store: FeedbackStore, overrides: Record<string, unknown> = {}): number {
  const parsed = parseFeedback({ ...WEATHER_REPORT, ...overrides });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return store.insertReport(parsed.payload).id;
}
