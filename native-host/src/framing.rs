//! [Native messaging](https://developer.chrome.com/docs/extensions/develop/concepts/native-messaging#native-messaging-host-protocol)
//! framing: a 4-byte length in native byte order, then that many bytes of UTF-8 JSON. Synchronous.
//! An incoming length over the limit is refused before any of its body is read; outgoing frames are
//! capped at [`MAX_FRAME_BYTES`] (Chromium's limit for host → browser).

use latchkey_core::host::MAX_FRAME_BYTES;
use std::io::{self, Read, Write};
use thiserror::Error;

/// Framing failures.
#[derive(Debug, Error)]
pub enum FrameError {
    /// The stream ended inside a length prefix or a body.
    #[error("stream ended inside a frame ({got} of {want} bytes)")]
    Truncated {
        /// Bytes read.
        got: usize,
        /// Bytes expected.
        want: usize,
    },
    /// A length over the limit (the body is not read).
    #[error("frame of {0} bytes exceeds the {MAX_FRAME_BYTES}-byte limit")]
    TooLarge(u64),
    /// An I/O error.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}

/// Reads exactly `buf.len()` bytes; returns how many were read before EOF.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Reads one frame. `Ok(None)` is a clean end of stream (EOF before a length prefix).
///
/// # Errors
/// [`FrameError`] for a truncated prefix or body, an oversize length, or an I/O error.
pub fn read_frame<R: Read>(r: &mut R) -> Result<Option<Vec<u8>>, FrameError> {
    let mut prefix = [0u8; 4];
    let got = read_full(r, &mut prefix)?;
    if got == 0 {
        return Ok(None);
    }
    if got < 4 {
        return Err(FrameError::Truncated { got, want: 4 });
    }
    let len = u32::from_ne_bytes(prefix);
    let want = usize::try_from(len).map_err(|_| FrameError::TooLarge(u64::from(len)))?;
    if want > MAX_FRAME_BYTES {
        return Err(FrameError::TooLarge(u64::from(len)));
    }
    let mut body = vec![0u8; want];
    let got = read_full(r, &mut body)?;
    if got < want {
        return Err(FrameError::Truncated { got, want });
    }
    Ok(Some(body))
}

/// Writes one frame and flushes.
///
/// # Errors
/// [`FrameError::TooLarge`] over [`MAX_FRAME_BYTES`] (nothing is written), or an I/O error.
pub fn write_frame<W: Write>(w: &mut W, payload: &[u8]) -> Result<(), FrameError> {
    if payload.len() > MAX_FRAME_BYTES {
        return Err(FrameError::TooLarge(payload.len() as u64));
    }
    let len = u32::try_from(payload.len()).map_err(|_| FrameError::TooLarge(u64::MAX))?;
    w.write_all(&len.to_ne_bytes())?;
    w.write_all(payload)?;
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use std::io::Cursor;

    fn framed(payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        write_frame(&mut v, payload).unwrap();
        v
    }

    #[test]
    fn round_trip_and_clean_eof() {
        let mut data = framed(b"{\"a\":1}");
        data.extend(framed(b""));
        let mut c = Cursor::new(data);
        assert_eq!(read_frame(&mut c).unwrap().unwrap(), b"{\"a\":1}");
        assert_eq!(read_frame(&mut c).unwrap().unwrap(), b"");
        assert!(read_frame(&mut c).unwrap().is_none());
    }

    #[test]
    fn native_endian_prefix() {
        let v = framed(b"xyz");
        assert_eq!(&v[..4], &3u32.to_ne_bytes());
    }

    #[test]
    fn truncated_prefix_and_body() {
        let mut c = Cursor::new(vec![1u8, 0]);
        assert!(matches!(
            read_frame(&mut c),
            Err(FrameError::Truncated { got: 2, want: 4 })
        ));
        let mut v = 10u32.to_ne_bytes().to_vec();
        v.extend(b"abc");
        let mut c = Cursor::new(v);
        assert!(matches!(
            read_frame(&mut c),
            Err(FrameError::Truncated { got: 3, want: 10 })
        ));
    }

    /// A reader that fails the test if more than the prefix is read.
    struct OnlyPrefix(Vec<u8>, usize);
    impl Read for OnlyPrefix {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let left = &self.0[self.1..];
            if self.1 >= 4 {
                panic!("body of an oversize frame was read");
            }
            let n = left.len().min(buf.len()).min(4 - self.1);
            buf[..n].copy_from_slice(&left[..n]);
            self.1 += n;
            Ok(n)
        }
    }

    #[test]
    fn oversize_is_refused_without_reading_the_body() {
        let len = u32::try_from(MAX_FRAME_BYTES + 1).unwrap();
        let mut r = OnlyPrefix(len.to_ne_bytes().to_vec(), 0);
        assert!(matches!(read_frame(&mut r), Err(FrameError::TooLarge(_))));
        let mut r = OnlyPrefix(u32::MAX.to_ne_bytes().to_vec(), 0);
        assert!(matches!(read_frame(&mut r), Err(FrameError::TooLarge(_))));
        let max = vec![b'x'; MAX_FRAME_BYTES];
        let mut c = Cursor::new(framed(&max));
        assert_eq!(read_frame(&mut c).unwrap().unwrap().len(), MAX_FRAME_BYTES);
    }

    #[test]
    fn oversize_write_writes_nothing() {
        let mut out = Vec::new();
        let big = vec![0u8; MAX_FRAME_BYTES + 1];
        assert!(matches!(
            write_frame(&mut out, &big),
            Err(FrameError::TooLarge(_))
        ));
        assert!(out.is_empty());
    }
}
