#!/usr/bin/env bash
# Set-up for the front-end test (deno task frontend): Debian's Jupyter Notebook and Chromium, and
# the npm packages pinned in deno.lock (playwright-core drives Chromium). Only that test needs the
# two Debian packages, so tools/setup.sh leaves them out. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

source tools/_debian.sh
mapfile -t missing < <(missing_packages jupyter-notebook chromium python3-nbclient python3-jupyter-client)
if ((${#missing[@]})) && ! install_packages frontend "${missing[@]}"; then
  echo "frontend: needs the Debian packages ${missing[*]} (run as root to install them)" >&2
  exit 1
fi
deno install --frozen
