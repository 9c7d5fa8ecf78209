//! Serialized origins ([HTML §7.1.1](https://html.spec.whatwg.org/multipage/browsers.html#origin)) as
//! the browser reports them for the calling frame, e.g. `https://a.example.com:8443`.
//!
//! The service worker takes the origin from `sender.origin` (never from the page), so the input is
//! already a browser serialization; the parser is still strict and refuses anything else.

use crate::error::WebAuthnError;
use crate::json::Quoted;

/// The host of a tuple origin.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A domain (ASCII, lowercased; IDNs arrive as punycode `xn--…`).
    Domain(String),
    /// An IPv4 address in dotted-decimal form, e.g. `127.0.0.1`.
    Ipv4([u8; 4]),
    /// An IPv6 address, kept as the bracketed serialization, e.g. `[::1]`.
    Ipv6(String),
}

/// A tuple origin: scheme, host and (non-default) port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    scheme: String,
    host: Host,
    host_text: String,
    port: Option<u16>,
}

fn not_allowed(origin: &str) -> WebAuthnError {
    WebAuthnError::not_allowed(format!(
        "the calling origin {} is not a valid tuple origin",
        Quoted(origin)
    ))
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// Parses dotted-decimal IPv4 (`a.b.c.d`, each 0–255, no leading zeros) as browsers serialize it.
fn parse_ipv4(host: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = host.split('.');
    for slot in &mut out {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if part.len() > 1 && part.starts_with('0') {
            return None;
        }
        *slot = part.parse().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(out)
}

fn is_domain_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_' || b == b'.'
}

impl Origin {
    /// Parses a serialized origin `scheme://host[:port]`.
    ///
    /// # Errors
    /// `NotAllowedError` for the opaque origin `"null"` and for anything that is not a tuple
    /// origin serialization (paths, credentials, non-ASCII hosts, bad ports).
    pub fn parse(text: &str) -> Result<Self, WebAuthnError> {
        if text == "null" {
            return Err(WebAuthnError::not_allowed("the calling origin is opaque"));
        }
        // The scheme has no ':', so this is the first "://" (split at a char, not a `str` pattern,
        // and `split_at_checked` below: `str` indexing panics link core's char-boundary message
        // formatting, see `json::Parser::slice`).
        let (scheme, rest) = text
            .split_once(':')
            .and_then(|(scheme, rest)| Some((scheme, rest.strip_prefix("//")?)))
            .ok_or_else(|| not_allowed(text))?;
        let scheme = scheme.to_ascii_lowercase();
        let mut scheme_bytes = scheme.bytes();
        if !scheme_bytes.next().is_some_and(|b| b.is_ascii_lowercase())
            || !scheme_bytes
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b))
        {
            return Err(not_allowed(text));
        }
        let (host_text, port_text) = if rest.starts_with('[') {
            let end = rest.find(']').ok_or_else(|| not_allowed(text))?;
            let (host, after) = rest
                .split_at_checked(end + 1)
                .ok_or_else(|| not_allowed(text))?;
            match after {
                "" => (host, None),
                _ => (
                    host,
                    Some(after.strip_prefix(':').ok_or_else(|| not_allowed(text))?),
                ),
            }
        } else {
            match rest.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (rest, None),
            }
        };
        let host_text = host_text.to_ascii_lowercase();
        let host = if let Some(inner) = host_text
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
        {
            if inner.is_empty()
                || !inner.contains(':')
                || !inner
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
            {
                return Err(not_allowed(text));
            }
            Host::Ipv6(host_text.clone())
        } else if let Some(ip) = parse_ipv4(&host_text) {
            Host::Ipv4(ip)
        } else {
            // Empty labels are refused, except the single trailing dot of a fully qualified name.
            let labels = host_text.strip_suffix('.').unwrap_or(&host_text);
            if labels.split('.').any(str::is_empty) || !host_text.bytes().all(is_domain_char) {
                return Err(not_allowed(text));
            }
            Host::Domain(host_text.clone())
        };
        let port = match port_text {
            None => None,
            Some(p) => {
                if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(not_allowed(text));
                }
                let port: u16 = p.parse().map_err(|_| not_allowed(text))?;
                (Some(port) != default_port(&scheme)).then_some(port)
            }
        };
        Ok(Self {
            scheme,
            host,
            host_text,
            port,
        })
    }

    /// The scheme, lowercase (`https`).
    #[must_use]
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The host.
    #[must_use]
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The host's serialization: the origin's
    /// [effective domain](https://html.spec.whatwg.org/multipage/browsers.html#concept-origin-effective-domain)
    /// (`document.domain` is never set for extension-observed frames).
    #[must_use]
    pub fn host_str(&self) -> &str {
        &self.host_text
    }

    /// The port when it is not the scheme's default.
    #[must_use]
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// True when the host is an IPv4 or IPv6 address.
    #[must_use]
    pub fn is_ip(&self) -> bool {
        matches!(self.host, Host::Ipv4(_) | Host::Ipv6(_))
    }

    /// [Potentially trustworthy](https://w3c.github.io/webappsec-secure-contexts/#is-origin-trustworthy):
    /// `https`, or `http` on a loopback host (`localhost`, `*.localhost`, `127.0.0.0/8`, `[::1]`).
    #[must_use]
    pub fn is_potentially_trustworthy(&self) -> bool {
        match self.scheme.as_str() {
            "https" | "wss" => true,
            "http" | "ws" => match &self.host {
                Host::Ipv4([a, ..]) => *a == 127,
                Host::Ipv6(h) => h == "[::1]" || h == "[0:0:0:0:0:0:0:1]",
                Host::Domain(d) => d == "localhost" || d.ends_with(".localhost"),
            },
            _ => false,
        }
    }

    /// The ASCII serialization, `scheme://host[:port]`, as it goes into `clientDataJSON`.
    #[must_use]
    pub fn serialize(&self) -> String {
        match self.port {
            // As u32: u16's own `Display` would be one more integer formatter in the wasm.
            Some(port) => format!("{}://{}:{}", self.scheme, self.host_text, u32::from(port)),
            None => format!("{}://{}", self.scheme, self.host_text),
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.serialize())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::error::ErrorName;

    #[test]
    fn parses_and_serializes_tuple_origins() {
        let cases = [
            (
                "https://a.example.com:8443",
                "https://a.example.com:8443",
                "a.example.com",
                Some(8443),
            ),
            (
                "http://localhost:3000",
                "http://localhost:3000",
                "localhost",
                Some(3000),
            ),
            (
                "https://EXAMPLE.com",
                "https://example.com",
                "example.com",
                None,
            ),
            (
                "https://example.com:443",
                "https://example.com",
                "example.com",
                None,
            ),
            (
                "http://example.com:80",
                "http://example.com",
                "example.com",
                None,
            ),
            (
                "http://[::1]:8080",
                "http://[::1]:8080",
                "[::1]",
                Some(8080),
            ),
            ("https://127.0.0.1", "https://127.0.0.1", "127.0.0.1", None),
            (
                "https://xn--bcher-kva.example",
                "https://xn--bcher-kva.example",
                "xn--bcher-kva.example",
                None,
            ),
        ];
        for (input, serialized, host, port) in cases {
            let o = Origin::parse(input).unwrap();
            assert_eq!(o.serialize(), serialized);
            assert_eq!(o.host_str(), host);
            assert_eq!(o.port(), port);
        }
        assert!(Origin::parse("https://127.0.0.1").unwrap().is_ip());
        assert!(Origin::parse("https://[2001:db8::1]").unwrap().is_ip());
        assert!(!Origin::parse("https://1.2.3.4.5").unwrap().is_ip());
    }

    #[test]
    fn rejects_opaque_and_garbage_with_not_allowed() {
        for bad in [
            "null",
            "",
            "example.com",
            "https://",
            "https://example.com/",
            "https://example.com/path",
            "https://user@example.com",
            "https://exa mple.com",
            "https://bücher.example",
            "https://example.com:",
            "https://a..example.com",
            "https://.example.com",
            "https://.",
            "https://example.com:99999",
            "https://example.com:12a",
            "https://[::1",
            "https://[]",
            "https://[::1]x",
            "1https://example.com",
            "file:///etc/passwd",
            "https:/example.com",
            "https:x://example.com",
            "a:b://example.com",
            "https//example.com",
        ] {
            let err = Origin::parse(bad).unwrap_err();
            assert_eq!(err.name, ErrorName::NotAllowedError, "{bad:?}");
        }
    }

    #[test]
    fn potentially_trustworthy() {
        for (origin, trustworthy) in [
            ("https://example.com", true),
            ("http://example.com", false),
            ("http://localhost:8080", true),
            ("http://app.localhost", true),
            ("http://localhost.example.com", false),
            ("http://127.0.0.1:3000", true),
            ("http://127.9.9.9", true),
            ("http://128.0.0.1", false),
            ("http://[::1]", true),
            ("http://[::2]", false),
            ("ftp://example.com", false),
            ("chrome-extension://abcdef", false),
        ] {
            assert_eq!(
                Origin::parse(origin).unwrap().is_potentially_trustworthy(),
                trustworthy,
                "{origin}"
            );
        }
    }
}
