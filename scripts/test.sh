#!/usr/bin/env bash
# Runs every test: Rust unit tests and lints, the wasm build, and the end-to-end suite in headless
# Chromium and Firefox. Assumes scripts/setup.sh has run (./latchkey test does both).
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n=== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy (native, all targets)"
cargo clippy --workspace --all-targets -q -- -D warnings
step "cargo clippy (wasm32)"
cargo clippy -p latchkey-wasm --target wasm32-unknown-unknown -q -- -D warnings
step "cargo clippy (native host: test build, and its Windows code for x86_64-pc-windows-gnu)"
cargo clippy -p native-host --all-targets --features test-verifier -q -- -D warnings
cargo clippy --target x86_64-pc-windows-gnu -p native-host -q -- -D warnings
step "cargo test"
cargo test --workspace -q
step "cargo test (native host test build: spawned host, test verifier, fuzz target as a stress run)"
cargo test -p native-host --features test-verifier -q
step "build the extension (wasm + dist/)"
node scripts/build.mjs
step "end-to-end tests (headless Chromium and Firefox ESR)"
node --test --test-concurrency=1 web-tests/
step "the demo, driven headless (what ./latchkey demo runs)"
CI=true node scripts/demo.mjs
