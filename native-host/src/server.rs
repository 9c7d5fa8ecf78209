//! The request loop: one reader (this thread) and a worker thread per long request, so `cancel`
//! can reach a pending prompt. Answers go through one locked writer, one whole frame at a time.
//!
//! * A request before a successful `hello` → `handshake-required`.
//! * At most [`MAX_PENDING`] requests pending → otherwise `busy`.
//! * A malformed frame → an error answer (id when readable) and the loop goes on.
//! * An oversize length prefix → `bad-frame` with id null, then the host stops (the stream cannot be
//!   resynchronised without reading the body). A truncated frame stops it too.
//! * End of stdin → pending requests are cancelled, given a moment to finish, and the host exits 0.

use crate::cancel::CancelToken;
use crate::framing::{read_frame, write_frame, FrameError};
use crate::log::log;
use crate::oskey::{derive_key, OsKeyError};
use crate::platform::PlatformError;
use crate::verifier::VerifyError;
use crate::Backends;
use latchkey_core::b64url;
use latchkey_core::host::{
    parse_request, CancelResult, Capabilities, ErrorBody, ErrorCode, HelloResult, OsKeyB64,
    OsKeyResult, PlatformResult, Request, RequestFrame, RequestId, ResponseBody, ResponseFrame,
    VerifyUserResult, PROTOCOL_VERSION,
};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Requests that may be pending at once.
pub const MAX_PENDING: usize = 4;

/// How long pending requests get to finish after stdin closes.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServeEnd {
    /// stdin closed between frames.
    Eof,
    /// A frame was oversize or truncated, or stdout failed.
    StreamError,
}

type SharedWriter = Arc<Mutex<Box<dyn Write + Send>>>;

struct Pending {
    map: Mutex<HashMap<RequestId, CancelToken>>,
    idle: Condvar,
}

fn send(out: &SharedWriter, frame: &ResponseFrame) -> bool {
    let bytes = match serde_json::to_vec(frame) {
        Ok(b) if b.len() <= latchkey_core::host::MAX_FRAME_BYTES => b,
        _ => {
            let id = match frame {
                ResponseFrame::Ok { id, .. } => Some(*id),
                ResponseFrame::Err { id, .. } => *id,
            };
            let err = ResponseFrame::Err {
                id,
                error: ErrorBody::new(ErrorCode::Internal, "the answer exceeds the frame limit"),
            };
            match serde_json::to_vec(&err) {
                Ok(b) => b,
                Err(_) => return false,
            }
        }
    };
    let mut w = out.lock().unwrap_or_else(PoisonError::into_inner);
    match write_frame(&mut *w, &bytes) {
        Ok(()) => true,
        Err(e) => {
            log(&format!("cannot write an answer: {e}"));
            false
        }
    }
}

fn err(id: RequestId, code: ErrorCode, message: impl Into<String>) -> ResponseFrame {
    ResponseFrame::Err {
        id: Some(id),
        error: ErrorBody::new(code, message),
    }
}

fn verify_error(id: RequestId, e: &VerifyError) -> ResponseFrame {
    let code = match e {
        VerifyError::Denied(_) => ErrorCode::Denied,
        VerifyError::Unavailable(_) => ErrorCode::Unavailable,
        VerifyError::Unsupported => ErrorCode::Unsupported,
        VerifyError::Cancelled => ErrorCode::Cancelled,
        VerifyError::Failed(_) => ErrorCode::Internal,
    };
    err(id, code, e.to_string())
}

fn os_key_error(id: RequestId, e: &OsKeyError) -> ResponseFrame {
    let code = match e {
        OsKeyError::Unsupported => ErrorCode::Unsupported,
        OsKeyError::Unavailable(_) => ErrorCode::Unavailable,
        OsKeyError::Denied(_) => ErrorCode::Denied,
        OsKeyError::Cancelled => ErrorCode::Cancelled,
        OsKeyError::KeyNotFound => ErrorCode::KeyNotFound,
        OsKeyError::KeyExists => ErrorCode::KeyExists,
        OsKeyError::Failed(_) => ErrorCode::Internal,
    };
    err(id, code, e.to_string())
}

fn platform_error(id: RequestId, e: &PlatformError) -> ResponseFrame {
    match e {
        PlatformError::Unsupported => err(id, ErrorCode::Unsupported, e.to_string()),
        PlatformError::Unavailable(_) => err(id, ErrorCode::Unavailable, e.to_string()),
        PlatformError::Cancelled => err(id, ErrorCode::Cancelled, e.to_string()),
        PlatformError::WebAuthn(w) => ResponseFrame::Err {
            id: Some(id),
            error: ErrorBody {
                code: ErrorCode::WebAuthn,
                message: w.message.clone(),
                name: Some(w.name),
            },
        },
    }
}

/// The `hello` answer for these backends.
#[must_use]
pub fn hello_result(b: &Backends) -> HelloResult {
    HelloResult {
        protocol_version: PROTOCOL_VERSION,
        host_version: crate::HOST_VERSION.to_owned(),
        os: crate::host_os(),
        capabilities: Capabilities {
            user_verification: b.verifier.availability(),
            os_key: b.keys.availability(),
            platform_authenticator: b.platform.availability(),
        },
        test_build: b.test_build,
    }
}

/// Runs one long request (on a worker thread).
fn run(b: &Backends, frame: RequestFrame, cancel: &CancelToken) -> ResponseFrame {
    let id = frame.id;
    let ok = |result| ResponseFrame::Ok { id, result };
    let parent = |w: Option<u64>| w.or(b.parent_window);
    let answer = match frame.request {
        Request::VerifyUser(r) => {
            match b
                .verifier
                .verify(&r.reason, parent(r.parent_window), cancel)
            {
                Ok(method) => ok(ResponseBody::VerifyUser(VerifyUserResult {
                    verified: true,
                    method,
                })),
                Err(e) => verify_error(id, &e),
            }
        }
        Request::OsKeyCreate(r) => {
            let challenge = match r.challenge.as_deref().map(b64url::decode).transpose() {
                Ok(c) => c.unwrap_or_default(),
                Err(_) => return err(id, ErrorCode::BadRequest, "challenge is not base64url"),
            };
            match b.keys.create(&r.key_id, r.replace, b.parent_window, cancel) {
                // The key now exists whatever happens to this request: answer with it even if a
                // cancel raced the end, so the vault can still use it.
                Ok((ikm, method)) => {
                    return match derive_key(&ikm, &r.key_id, &challenge) {
                        Ok(k) => ok(ResponseBody::OsKey(OsKeyResult {
                            key_id: r.key_id,
                            key: OsKeyB64::from_bytes(k.as_bytes()),
                            method,
                        })),
                        Err(e) => os_key_error(id, &e),
                    }
                }
                Err(e) => os_key_error(id, &e),
            }
        }
        Request::OsKeyRelease(r) => {
            let challenge = match r.challenge.as_deref().map(b64url::decode).transpose() {
                Ok(c) => c.unwrap_or_default(),
                Err(_) => return err(id, ErrorCode::BadRequest, "challenge is not base64url"),
            };
            match b.keys.release(&r.key_id, b.parent_window, cancel) {
                Ok((ikm, method)) => match derive_key(&ikm, &r.key_id, &challenge) {
                    Ok(k) => ok(ResponseBody::OsKey(OsKeyResult {
                        key_id: r.key_id,
                        key: OsKeyB64::from_bytes(k.as_bytes()),
                        method,
                    })),
                    Err(e) => os_key_error(id, &e),
                },
                Err(e) => os_key_error(id, &e),
            }
        }
        Request::PlatformCreate(r) => {
            match b.platform.create(&r, parent(r.parent_window), cancel) {
                Ok(credential) => ok(ResponseBody::Platform(PlatformResult { credential })),
                Err(e) => platform_error(id, &e),
            }
        }
        Request::PlatformGet(r) => match b.platform.get(&r, parent(r.parent_window), cancel) {
            Ok(credential) => ok(ResponseBody::Platform(PlatformResult { credential })),
            Err(e) => platform_error(id, &e),
        },
        Request::Hello(_) | Request::Cancel(_) => {
            err(id, ErrorCode::Internal, "not a long request")
        }
    };
    if cancel.cancelled_by_request() && matches!(answer, ResponseFrame::Ok { .. }) {
        // Finished as the cancel arrived: the caller has given up; do not hand out a verification
        // or a released key it no longer waits for.
        return err(id, ErrorCode::Cancelled, "cancelled");
    }
    answer
}

/// Serves frames from `input` until EOF or a stream error.
pub fn serve<R: Read>(
    mut input: R,
    output: Box<dyn Write + Send>,
    backends: &Backends,
) -> ServeEnd {
    let out: SharedWriter = Arc::new(Mutex::new(output));
    let pending = Arc::new(Pending {
        map: Mutex::new(HashMap::new()),
        idle: Condvar::new(),
    });
    let mut greeted = false;
    let end = loop {
        let bytes = match read_frame(&mut input) {
            Ok(Some(b)) => b,
            Ok(None) => break ServeEnd::Eof,
            Err(FrameError::TooLarge(n)) => {
                log(&format!("refused an oversize frame ({n} bytes); stopping"));
                let e = ResponseFrame::Err {
                    id: None,
                    error: ErrorBody::new(ErrorCode::BadFrame, FrameError::TooLarge(n).to_string()),
                };
                send(&out, &e);
                break ServeEnd::StreamError;
            }
            Err(e) => {
                log(&format!("input stream error: {e}; stopping"));
                break ServeEnd::StreamError;
            }
        };
        let frame = match parse_request(&bytes) {
            Ok(f) => f,
            Err(failure) => {
                log(&format!("refused a frame: {:?}", failure.error.code()));
                if !send(&out, &failure.to_response()) {
                    break ServeEnd::StreamError;
                }
                continue;
            }
        };
        let id = frame.id;
        let answer = match &frame.request {
            Request::Hello(h) => {
                if h.protocol_version == PROTOCOL_VERSION {
                    greeted = true;
                    Some(ResponseFrame::Ok {
                        id,
                        result: ResponseBody::Hello(hello_result(backends)),
                    })
                } else {
                    Some(err(
                        id,
                        ErrorCode::UnsupportedVersion,
                        format!("this host speaks protocol version {PROTOCOL_VERSION}"),
                    ))
                }
            }
            _ if !greeted => Some(err(id, ErrorCode::HandshakeRequired, "send hello first")),
            Request::Cancel(c) => {
                let map = pending.map.lock().unwrap_or_else(PoisonError::into_inner);
                let found = map
                    .get(&c.request_id)
                    .map(CancelToken::cancel_by_request)
                    .is_some();
                log(&format!(
                    "cancel for request {}: {}",
                    c.request_id,
                    if found { "stopping it" } else { "not pending" }
                ));
                Some(ResponseFrame::Ok {
                    id,
                    result: ResponseBody::Cancel(CancelResult { cancelled: found }),
                })
            }
            _ => start(backends, &out, &pending, frame),
        };
        if let Some(a) = answer {
            if !send(&out, &a) {
                break ServeEnd::StreamError;
            }
        }
    };
    // Stop whatever is pending and give it a moment to answer (the reader may still be there).
    let map = pending.map.lock().unwrap_or_else(PoisonError::into_inner);
    map.values().for_each(CancelToken::cancel);
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    let mut map = map;
    while !map.is_empty() && Instant::now() < deadline {
        map = match pending.idle.wait_timeout(map, deadline - Instant::now()) {
            Ok((g, _)) => g,
            Err(p) => p.into_inner().0,
        };
    }
    end
}

/// Starts a long request on a worker; `Some(answer)` when it cannot start.
fn start(
    b: &Backends,
    out: &SharedWriter,
    pending: &Arc<Pending>,
    frame: RequestFrame,
) -> Option<ResponseFrame> {
    let id = frame.id;
    let token = CancelToken::new();
    {
        let mut map = pending.map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.contains_key(&id) {
            return Some(err(
                id,
                ErrorCode::BadRequest,
                "a request with this id is pending",
            ));
        }
        if map.len() >= MAX_PENDING {
            return Some(err(id, ErrorCode::Busy, "too many pending requests"));
        }
        map.insert(id, token.clone());
    }
    let kind = frame.request.kind();
    let (b2, out2, pending2) = (b.clone(), Arc::clone(out), Arc::clone(pending));
    let spawned = std::thread::Builder::new()
        .name(format!("req-{id}"))
        .spawn(move || {
            let answer = run(&b2, frame, &token);
            if let ResponseFrame::Err { error, .. } = &answer {
                log(&format!("{} #{id}: {:?}", kind.as_str(), error.code));
            }
            send(&out2, &answer);
            let mut map = pending2.map.lock().unwrap_or_else(PoisonError::into_inner);
            map.remove(&id);
            pending2.idle.notify_all();
        });
    match spawned {
        Ok(_) => None,
        Err(e) => {
            pending
                .map
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&id);
            Some(err(
                id,
                ErrorCode::Internal,
                format!("cannot start a worker: {e}"),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::fuzz::DenyVerifier;
    use crate::oskey::NoKeyStore;
    use crate::platform::{PlatformAuthenticator, PlatformError};
    use latchkey_core::error::{ErrorName, WebAuthnError};
    use latchkey_core::host::{Availability, PlatformRequest};
    use serde_json::{json, Value};
    use std::io::Cursor;

    struct RefusingPlatform;
    impl PlatformAuthenticator for RefusingPlatform {
        fn availability(&self) -> Availability {
            Availability::Available
        }
        fn create(
            &self,
            _: &PlatformRequest,
            w: Option<u64>,
            _: &CancelToken,
        ) -> Result<Value, PlatformError> {
            assert_eq!(
                w,
                Some(77),
                "the --parent-window default reaches the backend"
            );
            Err(PlatformError::WebAuthn(WebAuthnError::new(
                ErrorName::InvalidStateError,
                "excluded",
            )))
        }
        fn get(
            &self,
            _: &PlatformRequest,
            w: Option<u64>,
            _: &CancelToken,
        ) -> Result<Value, PlatformError> {
            assert_eq!(w, Some(5), "the request's parentWindow wins");
            Ok(json!({"id": "AA"}))
        }
    }

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn run_frames(frames: &[Value]) -> Vec<Value> {
        let mut input = Vec::new();
        for f in frames {
            let b = serde_json::to_vec(f).unwrap();
            input.extend(u32::try_from(b.len()).unwrap().to_ne_bytes());
            input.extend(b);
        }
        let b = Backends {
            verifier: Arc::new(DenyVerifier),
            keys: Arc::new(NoKeyStore),
            platform: Arc::new(RefusingPlatform),
            test_build: false,
            parent_window: Some(77),
        };
        let sink = Sink::default();
        assert_eq!(
            serve(Cursor::new(input), Box::new(sink.clone()), &b),
            ServeEnd::Eof
        );
        let out = sink.0.lock().unwrap().clone();
        let mut c = Cursor::new(out);
        let mut answers = Vec::new();
        while let Some(f) = read_frame(&mut c).unwrap() {
            answers.push(serde_json::from_slice::<Value>(&f).unwrap());
        }
        answers.sort_by_key(|a| a["id"].as_u64());
        answers
    }

    #[test]
    fn errors_are_typed_per_backend() {
        let opts = json!({"challenge": "AA"});
        let a = run_frames(&[
            json!({"id": 1, "type": "hello", "protocolVersion": 1}),
            json!({"id": 2, "type": "verify-user", "reason": "x"}),
            json!({"id": 3, "type": "os-key-release", "keyId": "k"}),
            json!({"id": 4, "type": "platform-create", "origin": "https://a.example", "options": opts}),
            json!({"id": 5, "type": "platform-get", "origin": "https://a.example", "options": opts, "parentWindow": 5}),
        ]);
        assert_eq!(
            a[0]["result"]["capabilities"]["platformAuthenticator"],
            "available"
        );
        assert_eq!(a[1]["error"]["code"], "denied");
        assert_eq!(a[2]["error"]["code"], "unsupported");
        assert_eq!(
            a[3]["error"],
            json!({"code": "web-authn", "message": "excluded", "name": "InvalidStateError"})
        );
        assert_eq!(a[4]["result"]["credential"], json!({"id": "AA"}));
    }
}
