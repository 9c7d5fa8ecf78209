//! The native half of `npm run bench` (scripts/bench/): real vault fixtures and native timings.
//!
//! ```sh
//! cargo run --release -p latchkey-core --example bench_native -- fixture <N> <out.json>
//! cargo run --release -p latchkey-core --example bench_native -- native <out.json> [sizes…]
//! ```
//!
//! `fixture` writes `{storage, sessionKey, pin, localhost: [credential ids], n}`: a real vault
//! (Argon2id header at the default parameters for the test flavor's PIN, one AES-256-GCM entry per
//! passkey, each with its own P-256 key) of `N` passkeys, 3 of them for rpId `localhost` and the rest
//! spread over 500 other sites. `storage` is what `storage.local` holds; `sessionKey` is what a
//! woken service worker reads from `storage.session` to reopen it without the KDF.
//!
//! `native` writes native timings (milliseconds): Argon2id at the default parameters (the PIN check
//! of an unlocked vault, which is one KDF run plus the key unwrap) and the session-key unlock of
//! vaults of the given sizes (load + unlock, the work a woken worker does after reading storage:
//! `sessionUnlockMs` from a parsed snapshot, `sessionUnlockFromTextMs` from its JSON text as the
//! wasm session loads it), and `verifyAllMs`, the background verification of every entry the
//! lazy unlock left unopened.
#![allow(clippy::print_stdout)]

use latchkey_core::json::{Object, Value};
use latchkey_core::passkey::Passkey;
use latchkey_core::rng::{OsRng, Rng};
use latchkey_core::store::StoreWrite;
use latchkey_core::vault::keys::{Argon2Params, Pin};
use latchkey_core::vault::{Commit, Vault};
use latchkey_core::{b64url, PrivateKey};
use std::time::Instant;

/// The test flavor's PIN (extension/background/requests.js).
const TEST_PIN: &str = "latchkey-test-pin";
const NOW_MS: u64 = 1_763_000_000_000;

type Failure = Box<dyn std::error::Error>;

fn apply(storage: &mut Object, commit: Commit) {
    for (key, value) in commit.set {
        storage.insert(key, *value);
    }
    for key in commit.remove.iter().chain(&commit.cleanup) {
        storage.remove(key);
    }
}

/// A number of milliseconds (the JSON text of its shortest form, as `JSON.stringify` writes it).
fn number(ms: f64) -> Result<Value, Failure> {
    Ok(latchkey_core::json::parse(&format!("{ms:?}"))?)
}

struct Fixture {
    storage: Object,
    session_key: String,
    localhost: Vec<String>,
}

fn fixture(n: usize) -> Result<Fixture, Failure> {
    let mut rng = OsRng;
    let mut storage = Object::new();
    let mut vault = Vault::load(&storage);
    let (commit, _) = vault.create(
        &Pin::new(TEST_PIN.into()),
        Argon2Params::DEFAULT,
        NOW_MS,
        &mut rng,
    )?;
    apply(&mut storage, commit);
    let mut localhost = Vec::new();
    let mut writes = Vec::with_capacity(n);
    for i in 0..n {
        let mut credential_id = vec![0u8; 16];
        rng.fill_bytes(&mut credential_id)?;
        let mut user_handle = vec![0u8; 16];
        rng.fill_bytes(&mut user_handle)?;
        let rp_id = if i < 3 {
            localhost.push(b64url::encode(&credential_id));
            "localhost".to_owned()
        } else {
            format!("site{}.example", i % 500)
        };
        let passkey = Passkey {
            credential_id,
            rp_name: format!("Site {}", i % 500),
            rp_id,
            user_handle,
            user_name: format!("user{i}@example.com"),
            user_display_name: format!("User {i}"),
            label: None,
            private_key: PrivateKey::from_random_bytes(&mut rng)?,
            alg: -7,
            created_ms: NOW_MS - (n - i) as u64 * 1000,
            last_used_ms: None,
            sign_count: 0,
        };
        writes.push(StoreWrite::put(&passkey));
    }
    let commit = vault.commit_writes(writes, NOW_MS, &mut rng)?;
    apply(&mut storage, commit);
    Ok(Fixture {
        session_key: vault.session_key()?,
        storage,
        localhost,
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

fn native(sizes: &[usize]) -> Result<Value, Failure> {
    let mut rng = OsRng;
    let mut out = Object::new();
    // Argon2id: the PIN check of an unlocked vault (KDF + unwrap), as verifyPin does in wasm.
    let small = fixture(1)?;
    let mut vault = Vault::load(&small.storage);
    vault.unlock_with_session_key(&small.session_key, NOW_MS, &mut rng)?;
    let pin = Pin::new(TEST_PIN.into());
    let mut kdf = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        vault.verify_pin(&pin)?;
        kdf.push(ms(t));
    }
    out.insert("argon2VerifyPinMs", number(median(kdf))?);
    let mut unlock = Object::new();
    let mut from_text = Object::new();
    let mut verify = Object::new();
    for &n in sizes {
        let f = fixture(n)?;
        let text = f.storage.to_json_string();
        let (mut runs, mut text_runs, mut verify_runs) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..5 {
            // As before the lazy unlock: load from a parsed snapshot, then unlock.
            let t = Instant::now();
            let mut vault = Vault::load(&f.storage);
            vault.unlock_with_session_key(&f.session_key, NOW_MS, &mut rng)?;
            runs.push(ms(t));
            // The wasm session's path: load from the snapshot's text, then unlock.
            let t = Instant::now();
            let mut vault = Vault::load_json(&text)?;
            let (_, mut passkeys) =
                vault.unlock_with_session_key(&f.session_key, NOW_MS, &mut rng)?;
            text_runs.push(ms(t));
            // The background verification, all of it.
            let t = Instant::now();
            passkeys.extend(vault.finish_verification(NOW_MS)?);
            verify_runs.push(ms(t));
            if passkeys.len() != n {
                return Err(format!("unlocked {} of {n} passkeys", passkeys.len()).into());
            }
        }
        unlock.insert(n.to_string(), number(median(runs))?);
        from_text.insert(n.to_string(), number(median(text_runs))?);
        verify.insert(n.to_string(), number(median(verify_runs))?);
    }
    out.insert("sessionUnlockMs", unlock);
    out.insert("sessionUnlockFromTextMs", from_text);
    out.insert("verifyAllMs", verify);
    Ok(Value::Object(out))
}

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [cmd, n, path] if cmd == "fixture" => {
            let n: usize = n.parse()?;
            let f = fixture(n)?;
            let value = Object::new()
                .with("n", n)
                .with("pin", TEST_PIN)
                .with("sessionKey", f.session_key)
                .with("localhost", f.localhost.into_iter().collect::<Value>())
                .with("storage", f.storage);
            std::fs::write(path, value.to_json_string())?;
        }
        [cmd, path, sizes @ ..] if cmd == "native" => {
            let sizes = sizes
                .iter()
                .map(|s| s.parse())
                .collect::<Result<Vec<usize>, _>>()?;
            std::fs::write(path, native(&sizes)?.to_json_string())?;
        }
        _ => {
            return Err(
                "usage: bench_native fixture <N> <out.json> | native <out.json> [sizes…]".into(),
            )
        }
    }
    Ok(())
}
