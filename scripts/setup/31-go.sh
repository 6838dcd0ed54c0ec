#!/usr/bin/env bash
# Go drop-in: download the modules pinned in drop-ins/go/go.mod + go.sum and
# pre-build the package and its test binary, all inside drop-ins/go/.gocache
# (gitignored), so `go test` in the suite only links. Idempotent and fast when cached.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root/drop-ins/go"
export GOMODCACHE="$PWD/.gocache/mod" GOCACHE="$PWD/.gocache/build" GOFLAGS="-mod=readonly -buildvcs=false" GOTOOLCHAIN=local
go mod download >&2
go build -o /dev/null . >&2
# Compile the test binary without running it: a `go test` run here would print
# go's own "[no tests to run]" closing line, which CI tooling reads as a suite
# that executed nothing.
bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
go test -c -o "$bin/dropin.test" . >&2
