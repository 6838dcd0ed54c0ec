#!/usr/bin/env bash
# Installs everything the test suite needs beyond `npm install`: each area keeps
# its own idempotent script in scripts/setup/ (Debian packages, Node 22 tools,
# Python/Go/Rust dependencies for the drop-in tests). Safe to run repeatedly.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for step in "$here"/setup/*.sh; do
  [ -e "$step" ] || continue
  echo "setup: $(basename "$step")" >&2
  bash "$step"
done
