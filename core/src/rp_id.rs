//! The [RP ID](https://www.w3.org/TR/webauthn-3/#rp-id) check of
//! [`create()` step "rpId"](https://www.w3.org/TR/webauthn-3/#sctn-createCredential) and
//! [`get()`](https://www.w3.org/TR/webauthn-3/#sctn-getAssertion): the RP ID must be a
//! [registrable domain suffix of or equal to](https://html.spec.whatwg.org/multipage/browsers.html#is-a-registrable-domain-suffix-of-or-is-equal-to)
//! the caller's effective domain.
//!
//! Rules, in order (every failure is a `SecurityError`):
//! 1. the origin must be potentially trustworthy (a secure context);
//! 2. an IP-address host (`127.0.0.1`, `[::1]`) is refused outright, whatever the RP ID: its
//!    effective domain "is not a valid domain" (WebAuthn L3 §5.1.3 step 7), and Chromium and Firefox
//!    both answer `SecurityError`. (So an IP host never matches anything, not even by suffix.);
//! 3. the RP ID must be a syntactically valid ASCII host name: labels of `a–z 0–9 - _`, 1–63
//!    characters, at most 253 in all, no empty label (so no leading/trailing dot or `..`), no
//!    port, path, scheme or whitespace. Upper case is accepted and compared lower-cased, as the
//!    host parser would; [`effective_rp_id`] returns the lower-cased form that is hashed and stored;
//! 4. equal to the host: allowed (this is how `localhost` passes);
//! 5. otherwise the host must end with `"." + rpId` (a label boundary: `evilfoo.example.com` does
//!    not match `foo.example.com`), and the RP ID must not itself be a public suffix (Public Suffix
//!    List with private entries, e.g. `com`, `co.uk`, `github.io`; unknown TLDs count as suffixes).

use crate::error::WebAuthnError;
use crate::json::Quoted;
use crate::origin::Origin;
use crate::psl;

const MAX_NAME: usize = 253;
const MAX_LABEL: usize = 63;

fn is_valid_host_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= MAX_LABEL
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        })
}

/// The RP ID to use: `requested` (lower-cased) if the origin may claim it, else the origin's host.
///
/// # Errors
/// `SecurityError` as described in the [module documentation](self).
pub fn effective_rp_id(origin: &Origin, requested: Option<&str>) -> Result<String, WebAuthnError> {
    let rp_id = match requested {
        Some(id) => id.to_ascii_lowercase(),
        None => default_rp_id(origin).to_owned(),
    };
    validate_rp_id(origin, &rp_id)?;
    Ok(rp_id)
}

/// The default RP ID: the origin's effective domain (its host).
#[must_use]
pub fn default_rp_id(origin: &Origin) -> &str {
    origin.host_str()
}

/// Checks that `origin` may use `rp_id` (compared lower-cased).
///
/// # Errors
/// `SecurityError` as described in the [module documentation](self).
pub fn validate_rp_id(origin: &Origin, rp_id: &str) -> Result<(), WebAuthnError> {
    if !origin.is_potentially_trustworthy() {
        return Err(WebAuthnError::security(format!(
            "WebAuthn requires a secure context; {origin} is not potentially trustworthy"
        )));
    }
    let rp_id = rp_id.to_ascii_lowercase();
    let host = origin.host_str();
    let mismatch = || {
        WebAuthnError::security(format!(
            "the RP ID {} is not a registrable domain suffix of, nor equal to, the origin's host {}",
            Quoted(&rp_id),
            Quoted(host)
        ))
    };
    if origin.is_ip() {
        return Err(WebAuthnError::security(format!(
            "the origin's host {} is an IP address, not a valid domain",
            Quoted(host)
        )));
    }
    if !is_valid_host_name(&rp_id) {
        return Err(WebAuthnError::security(format!(
            "the RP ID {} is not a valid domain",
            Quoted(&rp_id)
        )));
    }
    if host == rp_id {
        return Ok(());
    }
    let on_label_boundary = host
        .strip_suffix(rp_id.as_str())
        .is_some_and(|prefix| prefix.ends_with('.') && prefix.len() > 1);
    if !on_label_boundary {
        return Err(mismatch());
    }
    if psl::is_public_suffix(&rp_id) {
        return Err(WebAuthnError::security(format!(
            "the RP ID {} is a public suffix",
            Quoted(&rp_id)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::error::ErrorName;

    /// (origin, rpId, allowed)
    const TABLE: &[(&str, &str, bool)] = &[
        // equal and parent domains
        ("https://example.com", "example.com", true),
        ("https://login.example.com", "example.com", true),
        ("https://login.example.com", "login.example.com", true),
        ("https://a.b.login.example.com:8443", "example.com", true),
        ("https://a.example.co.uk", "example.co.uk", true),
        ("https://foo.github.io", "foo.github.io", true),
        // public suffixes
        ("https://example.com", "com", false),
        ("https://login.example.com", "com", false),
        ("https://a.example.co.uk", "co.uk", false),
        ("https://foo.github.io", "github.io", false),
        ("https://foo.example", "example", false),
        // label boundary
        ("https://evilfoo.example.com", "foo.example.com", false),
        ("https://foo.example.com", "oo.example.com", false),
        ("https://example.com", "login.example.com", false),
        ("https://example.com", "other.com", false),
        ("https://example.com.evil.net", "example.com", false),
        // secure context
        ("http://example.com", "example.com", false),
        ("http://localhost:8080", "localhost", true),
        ("http://localhost", "localhost", true),
        ("http://app.localhost:3000", "app.localhost", true),
        ("http://app.localhost:3000", "localhost", false),
        // IP hosts are not valid domains: refused whatever the RP ID, as browsers do
        ("http://127.0.0.1:3000", "127.0.0.1", false),
        ("https://127.0.0.1", "127.0.0.1", false),
        ("https://127.0.0.1", "1.0.0.127", false),
        ("https://127.0.0.1", "0.0.1", false),
        ("https://127.0.0.1", "1", false),
        ("https://10.1.2.3", "1.2.3", false),
        ("http://[::1]:8080", "[::1]", false),
        ("http://[::1]:8080", "::1", false),
        ("http://[::1]:8080", "localhost", false),
        // upper case is compared lower-cased
        ("https://login.example.com", "Example.COM", true),
        ("https://LOGIN.example.com", "example.com", true),
        // not a host name
        ("https://example.com", "", false),
        ("https://example.com", ".example.com", false),
        ("https://example.com", "example.com.", false),
        ("https://example.com.", "example.com", false),
        ("https://example.com.", "example.com.", false),
        ("https://login.example.com", "example..com", false),
        ("https://example.com", "example.com:443", false),
        ("https://example.com:8443", "example.com:8443", false),
        ("https://example.com", "example.com/", false),
        ("https://example.com", "example.com/path", false),
        ("https://example.com", "https://example.com", false),
        ("https://example.com", " example.com", false),
        ("https://example.com", "example.com ", false),
        ("https://login.example.com", "exam ple.com", false),
        ("https://login.example.com", "example.com\0", false),
        // IDNs: punycode passes, Unicode does not
        (
            "https://xn--bcher-kva.example",
            "xn--bcher-kva.example",
            true,
        ),
        (
            "https://shop.xn--bcher-kva.example",
            "xn--bcher-kva.example",
            true,
        ),
        ("https://shop.xn--bcher-kva.com", "xn--bcher-kva.com", true),
        ("https://xn--bcher-kva.example", "bücher.example", false),
    ];

    #[test]
    fn rp_id_table() {
        for &(origin, rp_id, allowed) in TABLE {
            let origin_parsed = Origin::parse(origin).unwrap();
            match validate_rp_id(&origin_parsed, rp_id) {
                Ok(()) => assert!(allowed, "{origin} must not claim {rp_id:?}"),
                Err(e) => {
                    assert!(!allowed, "{origin} should claim {rp_id:?}: {e}");
                    assert_eq!(e.name, ErrorName::SecurityError, "{origin} {rp_id:?}");
                }
            }
        }
    }

    #[test]
    fn effective_rp_id_defaults_to_host_and_lowercases() {
        let o = Origin::parse("https://Login.Example.com:8443").unwrap();
        assert_eq!(effective_rp_id(&o, None).unwrap(), "login.example.com");
        assert_eq!(default_rp_id(&o), "login.example.com");
        assert_eq!(
            effective_rp_id(&o, Some("EXAMPLE.com")).unwrap(),
            "example.com"
        );
        let insecure = Origin::parse("http://example.com").unwrap();
        assert_eq!(
            effective_rp_id(&insecure, None).unwrap_err().name,
            ErrorName::SecurityError
        );
    }

    #[test]
    fn long_names_are_rejected() {
        let label = "a".repeat(64);
        let origin = Origin::parse(&format!("https://{label}.example.com")).unwrap();
        assert!(
            validate_rp_id(&origin, &format!("{label}.example.com")).is_err(),
            "even equal to the host"
        );
        let origin = Origin::parse(&format!("https://x.{label}.example.com")).unwrap();
        assert!(validate_rp_id(&origin, &format!("{label}.example.com")).is_err());
    }
}
