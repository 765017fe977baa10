#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, then runs every test.
#   - Node.js (>= 20) and npm for the test OpenID Provider (npm package `oidc-provider`, pinned in
#     tests/op/package-lock.json), installed from Debian if missing;
#   - the provider's npm packages (`npm ci`, from the committed lock file);
#   - then `cargo test --workspace` (unit, doc, mock and end-to-end tests).
set -euo pipefail
cd "$(dirname "$0")/.."

need_node() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || return 0
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  [ "$major" -lt 20 ]
}
if need_node; then
  echo "==> installing Node.js and npm (Debian packages)"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq nodejs npm
fi

echo "==> installing the test OpenID Provider (tests/op)"
npm ci --prefix tests/op --no-audit --no-fund --loglevel=error

echo "==> cargo test --workspace"
cargo test --workspace "$@"
