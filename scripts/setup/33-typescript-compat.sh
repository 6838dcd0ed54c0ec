#!/usr/bin/env bash
# TypeScript drop-in: the SDKs it is checked against besides the root package's own
# 1.x release, each pinned by its folder's package-lock.json and installed into
# <folder>/node_modules (gitignored):
#   drop-ins/typescript/compat/     the oldest @modelcontextprotocol/sdk 1.x the docs claim, with zod 3
#   drop-ins/typescript/compat-v2/  SDK 2.x (@modelcontextprotocol/server + client), with zod 4
# Idempotent: reinstalls a folder only when its lock changed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
for name in compat compat-v2; do
  dir="$root/drop-ins/typescript/$name"
  stamp="$dir/node_modules/.installed"
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then continue; fi
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >&2
  echo "$want" > "$stamp"
done
