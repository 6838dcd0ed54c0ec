#!/usr/bin/env bash
# Python drop-in test environments, from the pinned lock files in drop-ins/python:
#   .venv       mcp 2.x (MCPServer, low-level Server)
#   .venv-mcp1  mcp 1.x (FastMCP)
# Idempotent: a venv is rebuilt only when its lock file changed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="$root/drop-ins/python"
python="${PYTHON:-python3}"
for pair in ".venv:requirements-mcp2.lock" ".venv-mcp1:requirements-mcp1.lock"; do
  venv="$dir/${pair%%:*}"
  lock="$dir/${pair#*:}"
  stamp="$venv/.installed"
  want="$(sha256sum "$lock" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then continue; fi
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$lock" >&2
  echo "$want" > "$stamp"
done
