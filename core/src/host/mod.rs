//! The native messaging host protocol: the JSON messages the extension and `latchkey-host`
//! exchange over one [`connectNative`](https://developer.chrome.com/docs/extensions/develop/concepts/native-messaging)
//! port. Plain serde types, no I/O: the host (`native-host/`) and the wasm glue share them.
//!
//! Every frame is one JSON object. A request is `{"id": <u32>, "type": "<kind>", …members}`; an
//! answer is `{"id": <u32>, "result": {…}}` or `{"id": <u32>|null, "error": {"code", "message",
//! "name"?}}`. The first request on a port must be `hello` (version handshake). Everything a
//! request carries is bounded and checked by [`parse_request`]; unknown members are refused.
//! The full description, with examples, is docs/design.md "Native host protocol".

mod messages;

#[cfg(test)]
mod tests;

pub use messages::*;

/// The protocol version this build speaks. A `hello` with another version is refused with
/// [`ErrorCode::UnsupportedVersion`].
pub const PROTOCOL_VERSION: u32 = 1;

/// The native messaging host name (the manifest's `name`, and the file name of the manifest).
pub const HOST_NAME: &str = "app.latchkey.host";

/// The largest frame either side sends or accepts (Chromium caps host → browser frames at 1 MiB).
pub const MAX_FRAME_BYTES: usize = 1024 * 1024;

/// `verify-user` `reason`: shown in the OS prompt, 1–256 characters.
pub const MAX_REASON_CHARS: usize = 256;

/// A key id: 1–64 characters of `A–Z a–z 0–9 - _` (a vault id in base64url fits).
pub const MAX_KEY_ID_CHARS: usize = 64;

/// `os-key-*` `challenge`: at most 64 bytes (base64url, no padding).
pub const MAX_CHALLENGE_BYTES: usize = 64;

/// An origin (`platform-*`): at most 2048 characters.
pub const MAX_ORIGIN_CHARS: usize = 2048;

/// Serialized `options` of `platform-*`: at most 256 KiB.
pub const MAX_OPTIONS_BYTES: usize = 256 * 1024;

/// The OS-held key the host releases: 32 bytes.
pub const OS_KEY_BYTES: usize = 32;

/// A window handle travels as a JSON number; JS numbers are exact up to 2^53 − 1.
pub const MAX_WINDOW_HANDLE: u64 = (1 << 53) - 1;
