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

pub use session::Session;

/// Wall-clock time from `Date.now()`.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsClock;

impl Clock for JsClock {
    fn now_ms(&self) -> u64 {
        let now = js_sys::Date::now();
        if now.is_finite() && now > 0.0 {
            // Milliseconds since the epoch fit in u64 for the next few hundred million years.
            now as u64
        } else {
            0
        }
    }
}

/// The authenticator as the service worker sees it.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Latchkey {
    session: Session<OsRng, JsClock>,
}

#[wasm_bindgen]
impl Latchkey {
    /// Opens the store from a JSON array of stored passkey records. Records that do not decode are
    /// skipped (and listed by [`Latchkey::load_errors`]) so one damaged record never hides the others.
    #[wasm_bindgen(constructor)]
    pub fn new(records_json: &str) -> Latchkey {
        Latchkey {
            session: Session::open(records_json, OsRng, JsClock),
        }
    }

    /// Records that could not be loaded: `[{"key", "message"}]`.
    #[wasm_bindgen(js_name = loadErrors)]
    pub fn load_errors(&self) -> String {
        self.session.load_errors_json()
    }

    /// Number of passkeys loaded.
    #[wasm_bindgen(js_name = count)]
    pub fn count(&self) -> usize {
        self.session.count()
    }

    #[wasm_bindgen(js_name = inspectCreate)]
    pub fn inspect_create(&self, ctx: &str, options: &str) -> String {
        self.session.inspect_create(ctx, options)
    }

    #[wasm_bindgen(js_name = create)]
    pub fn create(&mut self, ctx: &str, options: &str, consent: &str) -> String {
        self.session.create(ctx, options, consent)
    }

    #[wasm_bindgen(js_name = inspectGet)]
    pub fn inspect_get(&self, ctx: &str, options: &str) -> String {
        self.session.inspect_get(ctx, options)
    }

    #[wasm_bindgen(js_name = get)]
    pub fn get(&mut self, ctx: &str, options: &str, selection: &str) -> String {
        self.session.get(ctx, options, selection)
    }

    #[wasm_bindgen(js_name = list)]
    pub fn list(&self) -> String {
        self.session.list()
    }

    #[wasm_bindgen(js_name = remove)]
    pub fn remove(&mut self, credential_id: &str) -> String {
        self.session.remove(credential_id)
    }
}

/// The crate version, for the popup's "about" line and bug reports.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
