#!/usr/bin/env bash
# Installs everything Latchkey needs on a fresh Debian machine. Idempotent: a second run only checks.
# Called by ./latchkey before every command, and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS="${LATCHKEY_TOOLS:-/opt/latchkey-tools}"
WASM_BINDGEN_VERSION="$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)"
GECKODRIVER_VERSION="0.37.1"

say() { printf '[setup] %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. Browsers (Debian's; Playwright never downloads its own), and openssl.
missing=()
command -v chromium >/dev/null || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
command -v firefox-esr >/dev/null || missing+=(firefox-esr)
# openssl: the hostile suite's local https sites make a self-signed certificate at start-up.
command -v openssl >/dev/null || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# 2. Rust targets: wasm32 for the extension's core, x86_64-pc-windows-gnu to check the native
#    host's Windows code from Linux (clippy only: no Windows linker needed).
for target in wasm32-unknown-unknown x86_64-pc-windows-gnu; do
  if ! rustup target list --installed | grep -qx "$target"; then
    say "rustup target add $target"
    rustup target add "$target"
  fi
done

# 3. Tools built from crates.io, pinned, into $TOOLS (checked before reinstalling).
mkdir -p "$TOOLS" 2>/dev/null || as_root mkdir -p "$TOOLS"
if [ "$("$TOOLS/bin/wasm-bindgen" --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes)"
  cargo install -q wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" --root "$TOOLS" --force
fi
if ! "$TOOLS/bin/geckodriver" --version 2>/dev/null | grep -q "geckodriver $GECKODRIVER_VERSION"; then
  say "cargo install geckodriver $GECKODRIVER_VERSION (about 2 minutes)"
  cargo install -q geckodriver --version "=$GECKODRIVER_VERSION" --root "$TOOLS" --force
fi

# 4. Node packages, exactly as package-lock.json says.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
say "ready (tools in $TOOLS)"
