#!/usr/bin/env bash
# Sets up this machine (Debian packages, npm ci) and runs every check: lint, types, then all tests, then
# the VM tests (real guests under QEMU; they build the bootable test source once and cache it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx biome check .
npx tsc --noEmit -p tsconfig.json
npm test
npm run test:vm
