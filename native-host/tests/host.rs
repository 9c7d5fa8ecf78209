//! Spawns the built `latchkey-host` and talks frames over its stdin/stdout. Tests that need the
//! scripted verifier run only with `--features test-verifier` (scripts/test.sh does that).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

const ORIGIN: &str = "chrome-extension://hpkkpmchehgbcnccfgdfoknecacajhkk/";
const EXE: &str = env!("CARGO_BIN_EXE_latchkey-host");

struct Host {
    child: Child,
    stdin: Option<ChildStdin>,
    frames: Receiver<Value>,
    _keys: tempfile::TempDir,
}

fn spawn_with(args: &[&str], env: &[(&str, &str)]) -> Host {
    let keys = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(EXE);
    cmd.args(args)
        .env("LATCHKEY_TEST_KEY_DIR", keys.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, frames) = channel();
    std::thread::spawn(move || loop {
        let mut len = [0u8; 4];
        if stdout.read_exact(&mut len).is_err() {
            return;
        }
        let mut body = vec![0u8; u32::from_ne_bytes(len) as usize];
        stdout.read_exact(&mut body).unwrap();
        if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
            return;
        }
    });
    Host {
        stdin: child.stdin.take(),
        child,
        frames,
        _keys: keys,
    }
}

fn spawn(env: &[(&str, &str)]) -> Host {
    spawn_with(&[ORIGIN], env)
}

impl Host {
    fn send_raw(&mut self, bytes: &[u8]) {
        let w = self.stdin.as_mut().unwrap();
        w.write_all(bytes).unwrap();
        w.flush().unwrap();
    }
    fn send(&mut self, v: &Value) {
        let body = serde_json::to_vec(v).unwrap();
        let mut f = u32::try_from(body.len()).unwrap().to_ne_bytes().to_vec();
        f.extend(body);
        self.send_raw(&f);
    }
    fn recv(&self) -> Value {
        self.frames
            .recv_timeout(Duration::from_secs(15))
            .expect("no answer from the host")
    }
    fn ask(&mut self, v: &Value) -> Value {
        self.send(v);
        self.recv()
    }
    fn hello(&mut self) -> Value {
        let r = self.ask(&json!({"id": 1, "type": "hello", "protocolVersion": 1}));
        assert_eq!(r["id"], 1, "{r}");
        r["result"].clone()
    }
    /// Closes stdin and waits for the exit code.
    fn finish(mut self) -> i32 {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "the host did not exit after stdin closed"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[test]
fn refuses_other_callers() {
    for args in [
        vec!["chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"],
        vec!["/tmp/x.json", "evil@example.com"],
        vec![],
    ] {
        let out = Command::new(EXE)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            out.stdout.is_empty(),
            "nothing on stdout for a refused caller"
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("refus") || err.contains("no caller"), "{err}");
    }
}

#[test]
fn handshake_eof_and_firefox_caller() {
    let mut h = spawn_with(
        &[
            "/home/u/.mozilla/native-messaging-hosts/app.latchkey.host.json",
            "latchkey@latchkey.app",
        ],
        &[],
    );
    let r = h.ask(&json!({"id": 5, "type": "verify-user", "reason": "x"}));
    assert_eq!(r["error"]["code"], "handshake-required");
    let r = h.ask(&json!({"id": 6, "type": "hello", "protocolVersion": 2}));
    assert_eq!(r["error"]["code"], "unsupported-version");
    let hello = h.hello();
    assert_eq!(hello["protocolVersion"], 1);
    assert_eq!(hello["hostVersion"], env!("CARGO_PKG_VERSION"));
    assert!(hello["capabilities"]["userVerification"].is_string());
    assert_eq!(hello["testBuild"], cfg!(feature = "test-verifier"));
    if cfg!(target_os = "linux") {
        assert_eq!(hello["os"], "linux");
        assert_eq!(
            hello["capabilities"]["platformAuthenticator"],
            "unsupported"
        );
    }
    assert_eq!(h.finish(), 0, "clean exit on EOF");
}

#[test]
fn garbage_and_unknown_types_are_answered() {
    let mut h = spawn(&[]);
    h.hello();
    let mut f = 5u32.to_ne_bytes().to_vec();
    f.extend(b"{nope");
    h.send_raw(&f);
    let r = h.recv();
    assert_eq!(r["id"], Value::Null);
    assert_eq!(r["error"]["code"], "bad-frame");
    let r = h.ask(&json!({"id": 7, "type": "format-disk"}));
    assert_eq!(
        (r["id"].clone(), r["error"]["code"].clone()),
        (json!(7), json!("unknown-type"))
    );
    let r = h.ask(&json!({"id": 8, "type": "verify-user", "reason": "x", "extra": true}));
    assert_eq!(r["error"]["code"], "bad-request");
    let r = h.ask(&json!({"id": 9, "type": "cancel", "requestId": 1234}));
    assert_eq!(r["result"]["cancelled"], false);
    // Still alive and answering after all that.
    h.hello();
    assert_eq!(h.finish(), 0);
}

#[test]
fn oversized_frame_is_refused_without_reading_it() {
    let mut h = spawn(&[]);
    h.hello();
    // Announce 64 MiB but send only a few bytes: the host must answer at once and stop.
    let mut f = (64u32 << 20).to_ne_bytes().to_vec();
    f.extend(b"{\"id\":1");
    h.send_raw(&f);
    let r = h.recv();
    assert_eq!(r["id"], Value::Null);
    assert_eq!(r["error"]["code"], "bad-frame");
    assert_eq!(h.finish(), 1);
}

#[test]
fn truncated_frame_stops_the_host() {
    let mut h = spawn(&[]);
    h.hello();
    let mut f = 100u32.to_ne_bytes().to_vec();
    f.extend(b"{\"id\":2,");
    h.send_raw(&f);
    assert_eq!(h.finish(), 1);
}

#[cfg(feature = "test-verifier")]
mod with_test_verifier {
    use super::*;

    #[test]
    fn verify_user_approve_and_deny() {
        let mut h = spawn(&[("LATCHKEY_TEST_VERIFIER", "approve")]);
        let hello = h.hello();
        assert_eq!(hello["capabilities"]["userVerification"], "available");
        assert_eq!(hello["capabilities"]["osKey"], "available");
        let r = h.ask(&json!({"id": 2, "type": "verify-user", "reason": "Sign in to example.com"}));
        assert_eq!(
            r,
            json!({"id": 2, "result": {"verified": true, "method": "test"}})
        );
        assert_eq!(h.finish(), 0);

        let mut h = spawn(&[("LATCHKEY_TEST_VERIFIER", "deny")]);
        h.hello();
        let r = h.ask(&json!({"id": 3, "type": "verify-user", "reason": "x"}));
        assert_eq!(r["error"]["code"], "denied");
        assert_eq!(h.finish(), 0);

        let mut h = spawn(&[("LATCHKEY_TEST_VERIFIER", "unavailable")]);
        assert_eq!(h.hello()["capabilities"]["userVerification"], "unavailable");
        let r = h.ask(&json!({"id": 3, "type": "verify-user", "reason": "x"}));
        assert_eq!(r["error"]["code"], "unavailable");
        assert_eq!(h.finish(), 0);
    }

    #[test]
    fn os_key_create_and_release() {
        let mut h = spawn(&[("LATCHKEY_TEST_VERIFIER", "approve")]);
        h.hello();
        let r = h.ask(&json!({"id": 2, "type": "os-key-release", "keyId": "vault-A"}));
        assert_eq!(r["error"]["code"], "key-not-found");
        let created = h.ask(&json!({"id": 3, "type": "os-key-create", "keyId": "vault-A"}));
        let key = created["result"]["key"].as_str().unwrap().to_owned();
        assert_eq!(latchkey_core::b64url::decode(&key).unwrap().len(), 32);
        assert_eq!(created["result"]["method"], "test");
        let r = h.ask(&json!({"id": 4, "type": "os-key-create", "keyId": "vault-A"}));
        assert_eq!(r["error"]["code"], "key-exists");
        let r = h.ask(&json!({"id": 5, "type": "os-key-release", "keyId": "vault-A"}));
        assert_eq!(r["result"]["key"], key.as_str());
        let r = h.ask(
            &json!({"id": 6, "type": "os-key-release", "keyId": "vault-A", "challenge": "AQID"}),
        );
        assert_ne!(
            r["result"]["key"],
            key.as_str(),
            "a challenge derives another key"
        );
        // The key file lives in the test dir; a denying verifier releases nothing.
        let dir = h._keys.path().to_owned();
        assert_eq!(h.finish(), 0);
        let mut h2 = spawn(&[
            ("LATCHKEY_TEST_VERIFIER", "deny"),
            ("LATCHKEY_TEST_KEY_DIR", dir.to_str().unwrap()),
        ]);
        h2.hello();
        let r = h2.ask(&json!({"id": 7, "type": "os-key-release", "keyId": "vault-A"}));
        assert_eq!(r["error"]["code"], "denied");
        assert!(r.get("result").is_none());
        assert_eq!(h2.finish(), 0);
    }

    #[test]
    fn cancel_a_slow_verification_and_eof_while_pending() {
        let mut h = spawn(&[
            ("LATCHKEY_TEST_VERIFIER", "slow"),
            ("LATCHKEY_TEST_VERIFIER_DELAY_MS", "20000"),
        ]);
        h.hello();
        h.send(&json!({"id": 2, "type": "verify-user", "reason": "x"}));
        h.send(&json!({"id": 3, "type": "cancel", "requestId": 2}));
        // Answers come in any order (route by id): the worker may answer before the reader does.
        let mut answers = [h.recv(), h.recv()];
        answers.sort_by_key(|a| a["id"].as_u64());
        assert_eq!(answers[0]["id"], 2);
        assert_eq!(answers[0]["error"]["code"], "cancelled");
        assert_eq!(answers[1], json!({"id": 3, "result": {"cancelled": true}}));
        // Pending when stdin closes: cancelled, and the host still exits promptly and cleanly.
        h.send(&json!({"id": 4, "type": "os-key-release", "keyId": "k"}));
        let start = Instant::now();
        assert_eq!(h.finish(), 0);
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn too_many_pending_is_busy() {
        let mut h = spawn(&[
            ("LATCHKEY_TEST_VERIFIER", "slow"),
            ("LATCHKEY_TEST_VERIFIER_DELAY_MS", "20000"),
        ]);
        h.hello();
        for id in 10..14 {
            h.send(&json!({"id": id, "type": "verify-user", "reason": "x"}));
        }
        let r = h.ask(&json!({"id": 14, "type": "verify-user", "reason": "x"}));
        assert_eq!(r["error"]["code"], "busy");
        let r = h.ask(&json!({"id": 15, "type": "verify-user", "reason": "x"}));
        assert_eq!(r["error"]["code"], "busy");
        assert_eq!(h.finish(), 0);
    }
}

/// Start time, round-trip latency and memory, printed (never asserted on time).
/// `cargo test --release -p native-host --features test-verifier --test host -- measure --nocapture`
/// (test build only: with the real verifier each verify-user would prompt).
#[cfg(feature = "test-verifier")]
#[test]
fn measure() {
    let start = Instant::now();
    let mut h = spawn(&[("LATCHKEY_TEST_VERIFIER", "approve")]);
    h.hello();
    let startup = start.elapsed();
    let n = 500;
    let t = Instant::now();
    for i in 0..n {
        let r = h.ask(&json!({"id": 100 + i, "type": "cancel", "requestId": 1}));
        assert_eq!(r["id"], 100 + i);
    }
    let cancel_rt = t.elapsed() / n;
    let t = Instant::now();
    for i in 0..n {
        let r = h.ask(&json!({"id": 1000 + i, "type": "verify-user", "reason": "x"}));
        assert_eq!(r["id"], 1000 + i);
    }
    let verify_rt = t.elapsed() / n;
    let rss = std::fs::read_to_string(format!("/proc/{}/status", h.child.id()))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_owned())
        })
        .unwrap_or_else(|| "n/a".to_owned());
    eprintln!(
        "latchkey-host ({}): start to first hello answer {:.2} ms; round trip: cancel {:.1} µs, verify-user (worker thread) {:.1} µs; RSS {} KiB",
        if cfg!(debug_assertions) { "debug" } else { "release" },
        startup.as_secs_f64() * 1e3,
        cancel_rt.as_secs_f64() * 1e6,
        verify_rt.as_secs_f64() * 1e6,
        rss
    );
    assert_eq!(h.finish(), 0);
}

/// `install` / `status` / `uninstall` as a person runs them, with HOME in a temp dir.
#[cfg(target_os = "linux")]
#[test]
fn installer_writes_manifests_under_home() {
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(EXE)
            .args(args)
            .env("HOME", home.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["install", "--browser", "all"]);
    let exe = std::fs::canonicalize(EXE).unwrap();
    let read = |rel: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(home.path().join(rel)).unwrap()).unwrap()
    };
    let chromium = read(".config/chromium/NativeMessagingHosts/app.latchkey.host.json");
    assert_eq!(chromium["name"], "app.latchkey.host");
    assert_eq!(chromium["type"], "stdio");
    assert_eq!(chromium["path"], exe.to_str().unwrap());
    assert_eq!(chromium["allowed_origins"], json!([ORIGIN]));
    let firefox = read(".mozilla/native-messaging-hosts/app.latchkey.host.json");
    assert_eq!(
        firefox["allowed_extensions"],
        json!(["latchkey@latchkey.app"])
    );
    let status = run(&["status"]);
    assert!(
        status.contains(&format!(
            "chromium: {}",
            home.path()
                .join(".config/chromium/NativeMessagingHosts/app.latchkey.host.json")
                .display()
        )),
        "{status}"
    );
    run(&["uninstall", "--browser", "firefox"]);
    assert!(!home
        .path()
        .join(".mozilla/native-messaging-hosts/app.latchkey.host.json")
        .exists());
    assert!(run(&["status"]).contains("firefox: not installed"));
    let udd = home.path().join("profile");
    run(&[
        "install",
        "--browser",
        "chromium",
        "--user-data-dir",
        udd.to_str().unwrap(),
    ]);
    assert!(udd
        .join("NativeMessagingHosts/app.latchkey.host.json")
        .is_file());
    let bad = Command::new(EXE)
        .args(["install", "--browser", "safari"])
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
