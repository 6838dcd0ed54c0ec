/**
 * The Go drop-in (feedback_tool.go) with mark3labs/mcp-go (pinned in go.mod /
 * go.sum, fetched and pre-built by scripts/setup/31-go.sh): `go test` in two phases.
 */
import { join } from "node:path";
import { describeDropin, run } from "../harness.js";

const here = import.meta.dirname;
const cache = join(here, ".gocache");

// `go test` relays the test binary's stderr on its own stdout, so the drop-in's
// stderr lines are looked for in both.
describeDropin("Go (mark3labs/mcp-go)", async (phase, env) => {
  const result = await run(
    "go",
    ["test", "-v", "-count=1", "-run", `^Test${phase[0]!.toUpperCase()}${phase.slice(1)}`, "."],
    {
      cwd: here,
      env: {
        ...env,
        GOMODCACHE: join(cache, "mod"),
        GOCACHE: join(cache, "build"),
        GOFLAGS: "-mod=readonly -buildvcs=false",
        GOTOOLCHAIN: "local",
      },
    },
  );
  return { ...result, stderr: `${result.stdout}\n${result.stderr}` };
});
