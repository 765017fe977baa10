#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, then runs every test.
#   - a C compiler (`cc`): aws-lc-sys, the crypto behind jsonwebtoken and the cookie sealing, builds C;
#   - Node.js >= 20.19 and npm for the test OpenID Provider (npm package `oidc-provider`, pinned in
#     tests/op/package-lock.json): installed from Debian if missing; when the installed Node.js is older
#     (Debian 12 ships 18), a supported one comes from the npm registry (package `node`) into
#     target/node, first on PATH for the tests;
#   - the provider's npm packages (`npm ci`, from the committed lock file);
#   - the test CAS server (PyPI package django-cas-server, pinned in tests/cas/requirements.txt) in a
#     virtual environment, target/cas-venv (python3 with venv from Debian if missing);
#   - Chromium and chromedriver (Debian packages chromium, chromium-driver) for the real-browser tests
#     (examples/tests/e2e/browser.rs): installed if missing; once present, GENAUTH_BROWSER_TESTS=required
#     makes those tests fail rather than skip. When they cannot be installed, the script says so and the
#     browser tests print SKIPPED;
#   - redis-server (Debian package redis-server) for the session-store tests, which start servers of
#     their own on free loopback ports: installed if missing; once present,
#     GENAUTH_REDIS_TESTS=required makes those tests fail rather than skip;
#   - then `cargo test --workspace` (unit, doc, mock and end-to-end tests), and the tests of
#     downstream/, a user's crate outside the workspace built on the packaged crates.
# CI (.ci/run) also needs the `rustfmt` and `clippy` components, and jq; it checks them itself.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_MIN=20.19
fail() { echo "test.sh: $*" >&2; exit 1; }

command -v cc >/dev/null 2>&1 ||
  fail "a C compiler is needed to build aws-lc-sys: install one as cc (apt-get install gcc)"

# True when `node` on PATH is at least $NODE_MIN.
node_supported() {
  local version
  version=$(node --version 2>/dev/null) || return 1
  version=${version#v}
  [ "$(printf '%s\n' "$NODE_MIN" "$version" | sort -V | head -n1)" = "$NODE_MIN" ]
}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "==> installing Node.js and npm (Debian packages)"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq nodejs npm; } ||
    fail "Node.js >= $NODE_MIN and npm are needed for the test OpenID Provider: install them"
fi
if ! node_supported; then
  old=$(node --version 2>/dev/null || echo "an unknown version")
  # A supported Node.js from an earlier run, else one from the npm registry (its `node` package ships
  # the official binary), installed with the old Node.js and npm.
  PATH="$PWD/target/node/node_modules/.bin:$PATH"
  export PATH
  if ! node_supported; then
    echo "==> Node.js $old is older than $NODE_MIN: installing Node.js 20 from the npm registry into target/node"
    npm install --prefix target/node --no-audit --no-fund --loglevel=error node@20 >/dev/null ||
      fail "Node.js >= $NODE_MIN is needed for the test OpenID Provider (found $old), and installing it from npm failed: install one and put it first on PATH"
    hash -r
    node_supported ||
      fail "Node.js >= $NODE_MIN is needed for the test OpenID Provider (found $old, and $(node --version) in target/node): install one and put it first on PATH"
  fi
fi
echo "==> Node.js $(node --version) ($(command -v node))"

echo "==> installing the test OpenID Provider (tests/op)"
npm ci --prefix tests/op --no-audit --no-fund --loglevel=error

if ! python3 -m venv --help >/dev/null 2>&1; then
  echo "==> installing Python 3 with venv (Debian packages) for the test CAS server"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq python3 python3-venv; } ||
    fail "Python 3 with venv is needed for the test CAS server: install it"
fi
if ! cmp -s tests/cas/requirements.txt target/cas-venv/requirements.txt 2>/dev/null; then
  echo "==> installing the test CAS server (tests/cas: django-cas-server from PyPI) into target/cas-venv"
  rm -rf target/cas-venv
  python3 -m venv target/cas-venv
  target/cas-venv/bin/pip install -q --disable-pip-version-check -r tests/cas/requirements.txt ||
    fail "installing tests/cas/requirements.txt into target/cas-venv failed"
  cp tests/cas/requirements.txt target/cas-venv/requirements.txt
fi

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "==> installing Chromium and chromedriver for the browser tests (Debian packages)"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium chromium-driver; } ||
    echo "test.sh: WARNING: Chromium could not be installed: the real-browser tests will be SKIPPED" >&2
fi
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  echo "==> $(chromium --version 2>/dev/null || echo chromium) with $(chromedriver --version 2>/dev/null | cut -d' ' -f1-2)"
  export GENAUTH_BROWSER_TESTS=required
fi

if ! command -v redis-server >/dev/null 2>&1; then
  echo "==> installing redis-server for the session-store tests (Debian package)"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq redis-server; } ||
    echo "test.sh: WARNING: redis-server could not be installed: the Redis store tests will be SKIPPED" >&2
fi
if command -v redis-server >/dev/null 2>&1; then
  # The tests start their own servers on free loopback ports (never the system's Redis).
  echo "==> $(redis-server --version | cut -d' ' -f1-3)"
  export GENAUTH_REDIS_TESTS=required
fi

echo "==> cargo test --workspace"
cargo test --workspace "$@"

# A user's crate outside the workspace (downstream/), built on what crates.io would serve: the
# `.crate` files of `cargo package`, unpacked into target/downstream (its [patch.crates-io]).
echo "==> downstream/: a crate outside the workspace, on the packaged genauth and genauth-axum"
cargo package -p genauth -p genauth-axum --no-verify --locked --quiet
rm -rf target/downstream
mkdir -p target/downstream
for crate in genauth genauth-axum; do
  pkgid=$(cargo pkgid -p "$crate")  # path+file:///…/genauth#0.1.0 (or …#genauth@0.1.0)
  version=${pkgid##*[#@]}
  mkdir -p "target/downstream/$crate"
  tar -xzf "target/package/$crate-$version.crate" -C "target/downstream/$crate" --strip-components=1
done
cargo test --manifest-path downstream/Cargo.toml --locked --target-dir target "$@"
