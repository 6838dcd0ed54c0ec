#!/usr/bin/env bash
# Rust drop-in: fetch the crates pinned in drop-ins/rust/Cargo.lock and build the
# test binaries and the stdio example server into drop-ins/rust/target (gitignored).
# The first build takes minutes on 2 cores; later runs are incremental and take seconds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root/drop-ins/rust"
cargo build --locked --tests --examples --quiet >&2
