#!/usr/bin/env bash
# Debian's Chromium for the dashboard's end-to-end tests (driven by
# playwright-core). Playwright never downloads a browser in this project.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: /usr/bin/chromium is missing and apt-get is not available; install Chromium by hand" >&2
  exit 1
fi
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo_cmd apt-get update >&2
$sudo_cmd apt-get install -y --no-install-recommends chromium fonts-dejavu-core >&2
