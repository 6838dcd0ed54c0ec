#!/usr/bin/env bash
# The v2 MCP TypeScript SDK (@modelcontextprotocol/server, /client, /node 2.x:
# serves and speaks both 2025-11-25 and 2026-07-28) for the dual-era
# conformance fixture and the 2026-07-28 client tests, pinned by
# test/fixtures/mcp-v2/package-lock.json and installed into
# test/fixtures/mcp-v2/node_modules (gitignored), apart from the root
# package's SDK 1.x. Idempotent: reinstalls only when the lock changed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="$root/test/fixtures/mcp-v2"
stamp="$dir/node_modules/.installed"
want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >&2
echo "$want" > "$stamp"
