#!/usr/bin/env bash
# Sets up this machine (Debian packages, npm ci), builds the web UI and runs the demo: a devcloud
# (Synnefo-compatible cloud whose VMs run the real agent), the ICaaS service on SQLite and the UI.
# It prints the URL, the demo token and a curl example. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run build --silent -w packages/web
exec node --import tsx packages/demo/src/main.ts
