#!/usr/bin/env bash
# TypeScript drop-in: the oldest @modelcontextprotocol/sdk 1.x the docs claim (with
# the zod 3 it was built for), pinned by drop-ins/typescript/compat/package-lock.json
# and installed into compat/node_modules (gitignored). The installed release is the
# root package's own dependency. Idempotent: reinstalls only when the lock changed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="$root/drop-ins/typescript/compat"
stamp="$dir/node_modules/.installed"
want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >&2
echo "$want" > "$stamp"
