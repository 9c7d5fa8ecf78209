//! The fuzz entry point shared by `fuzz/fuzz_targets/frames.rs` (cargo-fuzz, nightly) and the
//! stable, bounded stress test in `tests/stress.rs`: any byte string, as a stream of frames, must
//! never panic the host, and every answer must be one well-formed frame.

use crate::cancel::CancelToken;
use crate::oskey::NoKeyStore;
use crate::platform::Unsupported;
use crate::verifier::{UserVerifier, VerifyError};
use crate::Backends;
use latchkey_core::host::{parse_request, Availability, VerificationMethod};
use std::io::{Cursor, Write};
use std::sync::{Arc, Mutex, PoisonError};

/// A verifier that always denies at once (fuzzing must not wait or prompt).
#[derive(Debug, Clone, Copy)]
pub struct DenyVerifier;

impl UserVerifier for DenyVerifier {
    fn availability(&self) -> Availability {
        Availability::Available
    }
    fn verify(
        &self,
        _: &str,
        _: Option<u64>,
        _: &CancelToken,
    ) -> Result<VerificationMethod, VerifyError> {
        Err(VerifyError::Denied("fuzz".to_owned()))
    }
}

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Feeds `data` to the parser directly and to the whole serve loop as a frame stream; returns the
/// number of answer frames (each checked to be length-prefixed JSON with an `id`).
#[must_use]
pub fn fuzz_one(data: &[u8]) -> usize {
    let _ = parse_request(data);
    let backends = Backends {
        verifier: Arc::new(DenyVerifier),
        keys: Arc::new(NoKeyStore),
        platform: Arc::new(Unsupported),
        test_build: true,
        parent_window: None,
    };
    let sink = Sink::default();
    let _ = crate::server::serve(
        Cursor::new(data.to_vec()),
        Box::new(sink.clone()),
        &backends,
    );
    let out = sink
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let mut cursor = Cursor::new(out);
    let mut n = 0;
    while let Ok(Some(frame)) = crate::framing::read_frame(&mut cursor) {
        let ok = serde_json::from_slice::<serde_json::Value>(&frame)
            .map(|v| v.get("id").is_some())
            .unwrap_or(false);
        if !ok {
            // Surfaces to the fuzzer as a crash via the caller's assert.
            return usize::MAX;
        }
        n += 1;
    }
    n
}
