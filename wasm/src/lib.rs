//! Thin wasm-bindgen glue over [`latchkey_core`] for the extension's service worker.
//!
//! Every method takes and returns JSON strings, and answers with an envelope instead of throwing:
//! `{"ok": value}` or `{"error": {"name": "SecurityError", "message": "…"}}` (see docs/design.md).
//! All logic lives in [`Session`], which is plain Rust and tested natively; the `#[wasm_bindgen]`
//! type only plugs in the JS clock and the OS random source.

use latchkey_core::clock::Clock;
use latchkey_core::rng::OsRng;
use wasm_bindgen::prelude::*;

mod session;

/// The global allocator in the wasm module: Talc (its WebAssembly configuration, growing the
/// memory as needed) instead of the standard library's dlmalloc: about 6.8 KB less wasm (issue 6),
/// no measurable change in speed (README "Benchmarks"; docs/design.md "Collections and sorting in
/// the wasm (size)").
#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

pub use session::Session;

#[wasm_bindgen]
extern "C" {
    /// `Date.now()`, imported directly: js-sys (for this one function) linked its futures and
    /// closure shims into the module (about 3 KB of wasm, issue 6).
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    fn date_now() -> f64;
}

/// Wall-clock time from `Date.now()`.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsClock;

impl Clock for JsClock {
    fn now_ms(&self) -> u64 {
        let now = date_now();
        if now.is_finite() && now > 0.0 {
            // Milliseconds since the epoch fit in u64 for the next few hundred million years.
            now as u64
        } else {
            0
        }
    }
}

/// The authenticator as the service worker sees it (docs/design.md, "The wasm API").
#[wasm_bindgen]
#[derive(Debug)]
pub struct Latchkey {
    session: Session<OsRng, JsClock>,
}

impl Default for Latchkey {
    fn default() -> Self {
        Self::new()
    }
}

#[wasm_bindgen]
impl Latchkey {
    /// An empty session; call `load` with the `storage.local` snapshot next.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Latchkey {
        Latchkey {
            session: Session::new(OsRng, JsClock),
        }
    }

    /// Reads the vault from the whole `storage.local` object (JSON); the session is locked after.
    pub fn load(&mut self, storage_json: &str) -> String {
        self.session.load(storage_json)
    }

    pub fn status(&self) -> String {
        self.session.status()
    }

    /// `status().state` alone (`none`, `locked` or `unlocked`), without building the status.
    pub fn state(&self) -> String {
        self.session.state().to_owned()
    }

    /// Number of passkeys served (0 while locked).
    pub fn count(&self) -> usize {
        self.session.count()
    }

    #[wasm_bindgen(js_name = createVault)]
    pub fn create_vault(&mut self, pin: &str, kdf_json: &str) -> String {
        self.session.create_vault(pin, kdf_json)
    }

    #[wasm_bindgen(js_name = unlockWithPin)]
    pub fn unlock_with_pin(&mut self, pin: &str) -> String {
        self.session.unlock_with_pin(pin)
    }

    #[wasm_bindgen(js_name = unlockWithSessionKey)]
    pub fn unlock_with_session_key(&mut self, key: &str) -> String {
        self.session.unlock_with_session_key(key)
    }

    #[wasm_bindgen(js_name = unlockWithOsKey)]
    pub fn unlock_with_os_key(&mut self, key_id: &str, kek_b64url: &str) -> String {
        self.session.unlock_with_os_key(key_id, kek_b64url)
    }

    #[wasm_bindgen(js_name = addOsUnlock)]
    pub fn add_os_unlock(&mut self, key_id: &str, kek_b64url: &str) -> String {
        self.session.add_os_unlock(key_id, kek_b64url)
    }

    #[wasm_bindgen(js_name = removeOsUnlock)]
    pub fn remove_os_unlock(&mut self, key_id: &str) -> String {
        self.session.remove_os_unlock(key_id)
    }

    #[wasm_bindgen(js_name = verifyPin)]
    pub fn verify_pin(&self, pin: &str) -> String {
        self.session.verify_pin(pin)
    }

    #[wasm_bindgen(js_name = changePin)]
    pub fn change_pin(&mut self, old_pin: &str, new_pin: &str) -> String {
        self.session.change_pin(old_pin, new_pin)
    }

    pub fn lock(&mut self) -> String {
        self.session.lock()
    }

    /// One slice of the background verification after an unlock.
    #[wasm_bindgen(js_name = verifyStep)]
    pub fn verify_step(&mut self, max_entries: u32) -> String {
        self.session.verify_step(max_entries)
    }

    #[wasm_bindgen(js_name = inspectCreate)]
    pub fn inspect_create(&mut self, ctx: &str, options: &str) -> String {
        self.session.inspect_create(ctx, options)
    }

    pub fn create(&mut self, ctx: &str, options: &str, consent: &str) -> String {
        self.session.create(ctx, options, consent)
    }

    #[wasm_bindgen(js_name = inspectGet)]
    pub fn inspect_get(&mut self, ctx: &str, options: &str) -> String {
        self.session.inspect_get(ctx, options)
    }

    pub fn get(&mut self, ctx: &str, options: &str, selection: &str) -> String {
        self.session.get(ctx, options, selection)
    }

    /// Computes the next requests' signature nonces and key pair ahead (a few hundred µs when
    /// the pool is empty, nothing when full); the worker calls it after answering. How many it made.
    pub fn precompute(&mut self) -> u32 {
        self.session.precompute()
    }

    /// `{commit}` storing every pending `lastUsed` (see docs/design.md "The wasm API").
    #[wasm_bindgen(js_name = flushMetadata)]
    pub fn flush_metadata(&mut self) -> String {
        self.session.flush_metadata()
    }

    #[wasm_bindgen(js_name = metadataPending)]
    pub fn metadata_pending(&self) -> usize {
        self.session.metadata_pending()
    }

    pub fn list(&mut self) -> String {
        self.session.list()
    }

    pub fn rename(&mut self, credential_id: &str, label: &str) -> String {
        self.session.rename(credential_id, label)
    }

    pub fn remove(&mut self, credential_id: &str) -> String {
        self.session.remove(credential_id)
    }

    pub fn restore(&mut self, credential_id: &str) -> String {
        self.session.restore(credential_id)
    }

    pub fn purge(&mut self, credential_id: &str) -> String {
        self.session.purge(credential_id)
    }

    /// Milliseconds to wait before the next PIN attempt after `failures` wrong ones.
    #[wasm_bindgen(js_name = unlockDelayMs)]
    pub fn unlock_delay_ms(&self, failures: u32) -> f64 {
        // At most 300,000: exact in an f64.
        session::delay_after_failures(failures) as f64
    }
}

/// The crate version, for the popup's "about" line and bug reports.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
