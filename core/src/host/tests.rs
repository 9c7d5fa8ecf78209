#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use serde_json::{json, Value};

/// Request vectors: these JSON strings must keep decoding, to exactly these requests.
const REQUEST_VECTORS: &[&str] = &[
    r#"{"id":1,"type":"hello","protocolVersion":1}"#,
    r#"{"id":2,"type":"verify-user","reason":"Unlock Latchkey"}"#,
    r#"{"id":3,"type":"verify-user","reason":"Sign in to example.com","parentWindow":132456}"#,
    r#"{"id":4,"type":"os-key-create","keyId":"AAECAwQFBgcICQoLDA0ODw"}"#,
    r#"{"id":5,"type":"os-key-create","keyId":"vault-1","challenge":"bGF0Y2hrZXk","replace":true}"#,
    r#"{"id":6,"type":"os-key-release","keyId":"AAECAwQFBgcICQoLDA0ODw"}"#,
    r#"{"id":7,"type":"os-key-release","keyId":"vault-1","challenge":"bGF0Y2hrZXk"}"#,
    r#"{"id":8,"type":"platform-create","origin":"https://example.com","options":{"challenge":"AAAA","rp":{"id":"example.com","name":"Example"},"user":{"id":"AQ","name":"a","displayName":"A"},"pubKeyCredParams":[{"type":"public-key","alg":-7}]},"attachment":"cross-platform"}"#,
    r#"{"id":9,"type":"platform-get","origin":"https://example.com","options":{"challenge":"AAAA","rpId":"example.com"},"attachment":"platform","parentWindow":7}"#,
    r#"{"id":10,"type":"platform-get","origin":"https://example.com","options":{"challenge":"AAAA"}}"#,
    r#"{"id":4294967295,"type":"cancel","requestId":2}"#,
];

/// Answer vectors (host → extension), with the kind of the request they answer.
const RESPONSE_VECTORS: &[(RequestKind, &str)] = &[
    (
        RequestKind::Hello,
        r#"{"id":1,"result":{"protocolVersion":1,"hostVersion":"0.1.0","os":"linux","capabilities":{"userVerification":"available","osKey":"unavailable","platformAuthenticator":"unsupported"},"testBuild":false}}"#,
    ),
    (
        RequestKind::VerifyUser,
        r#"{"id":2,"result":{"verified":true,"method":"windows-hello"}}"#,
    ),
    (
        RequestKind::VerifyUser,
        r#"{"id":2,"result":{"verified":true,"method":"polkit"}}"#,
    ),
    (
        RequestKind::OsKeyRelease,
        r#"{"id":6,"result":{"keyId":"vault-1","key":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8","method":"test"}}"#,
    ),
    (
        RequestKind::OsKeyCreate,
        r#"{"id":4,"result":{"keyId":"AAECAwQFBgcICQoLDA0ODw","key":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8","method":"windows-hello"}}"#,
    ),
    (
        RequestKind::PlatformCreate,
        r#"{"id":8,"result":{"credential":{"id":"BAU","rawId":"BAU","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA","transports":["usb"],"publicKeyAlgorithm":-7},"authenticatorAttachment":"cross-platform","clientExtensionResults":{}}}}"#,
    ),
    (
        RequestKind::PlatformGet,
        r#"{"id":9,"result":{"credential":{"id":"AQ","rawId":"AQ","type":"public-key","response":{}}}}"#,
    ),
    (
        RequestKind::Cancel,
        r#"{"id":11,"result":{"cancelled":true}}"#,
    ),
];

const ERROR_VECTORS: &[&str] = &[
    r#"{"id":2,"error":{"code":"denied","message":"the user declined"}}"#,
    r#"{"id":null,"error":{"code":"bad-frame","message":"frame is not a JSON object"}}"#,
    r#"{"id":9,"error":{"code":"web-authn","message":"timed out","name":"NotAllowedError"}}"#,
    r#"{"id":3,"error":{"code":"handshake-required","message":"send hello first"}}"#,
];

#[test]
fn request_vectors_decode_and_round_trip() {
    for v in REQUEST_VECTORS {
        let frame = parse_request(v.as_bytes()).unwrap_or_else(|e| panic!("{v}: {e}"));
        let again = encode_request(&frame).unwrap();
        let reparsed = parse_request(&again).unwrap();
        assert_eq!(frame, reparsed, "{v}");
        let a: Value = serde_json::from_str(v).unwrap();
        let b: Value = serde_json::from_slice(&again).unwrap();
        assert_eq!(a, b, "re-encoding {v}");
    }
    let f = parse_request(REQUEST_VECTORS[2].as_bytes()).unwrap();
    assert_eq!(
        f.request,
        Request::VerifyUser(VerifyUserRequest {
            reason: "Sign in to example.com".into(),
            parent_window: Some(132_456)
        })
    );
    assert_eq!(f.id, 3);
    let f = parse_request(REQUEST_VECTORS[10].as_bytes()).unwrap();
    assert_eq!(f.id, u32::MAX);
    assert_eq!(f.request, Request::Cancel(CancelRequest { request_id: 2 }));
}

#[test]
fn response_vectors_decode_and_round_trip() {
    for (kind, v) in RESPONSE_VECTORS {
        let frame: Value = serde_json::from_str(v).unwrap();
        let result = frame["result"].clone();
        let body = parse_result(*kind, result).unwrap_or_else(|e| panic!("{v}: {e}"));
        let id = response_id(frame.as_object().unwrap()).unwrap();
        let out = serde_json::to_value(ResponseFrame::Ok { id, result: body }).unwrap();
        assert_eq!(out, frame, "{v}");
    }
    for v in ERROR_VECTORS {
        let frame: ResponseFrame = serde_json::from_str(v).unwrap();
        assert!(matches!(frame, ResponseFrame::Err { .. }), "{v}");
        assert_eq!(
            serde_json::to_value(&frame).unwrap(),
            serde_json::from_str::<Value>(v).unwrap()
        );
    }
}

#[test]
fn os_key_is_secret_and_checked() {
    let key = OsKeyB64::from_bytes(&[7u8; 32]);
    assert_eq!(format!("{key:?}"), "OsKeyB64(..)");
    assert_eq!(*key.to_bytes(), [7u8; 32]);
    let short = json!({"keyId":"a","key":"AAEC","method":"test"});
    assert!(parse_result(RequestKind::OsKeyRelease, short).is_err());
    let padded =
        json!({"keyId":"a","key":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","method":"test"});
    assert!(parse_result(RequestKind::OsKeyRelease, padded).is_err());
}

fn refused(json: &str) -> ParseFailure {
    match parse_request(json.as_bytes()) {
        Ok(f) => panic!("accepted {json}: {f:?}"),
        Err(e) => e,
    }
}

#[test]
fn bad_frames_are_refused_with_codes() {
    let cases: &[(&str, Option<u32>, ErrorCode)] = &[
        ("", None, ErrorCode::BadFrame),
        ("{", None, ErrorCode::BadFrame),
        ("[1,2]", None, ErrorCode::BadFrame),
        ("\"hello\"", None, ErrorCode::BadFrame),
        (
            r#"{"type":"hello","protocolVersion":1}"#,
            None,
            ErrorCode::BadRequest,
        ),
        (
            r#"{"id":-1,"type":"hello","protocolVersion":1}"#,
            None,
            ErrorCode::BadRequest,
        ),
        (
            r#"{"id":1.5,"type":"hello","protocolVersion":1}"#,
            None,
            ErrorCode::BadRequest,
        ),
        (
            r#"{"id":4294967296,"type":"hello","protocolVersion":1}"#,
            None,
            ErrorCode::BadRequest,
        ),
        (
            r#"{"id":"1","type":"hello","protocolVersion":1}"#,
            None,
            ErrorCode::BadRequest,
        ),
        (r#"{"id":1}"#, Some(1), ErrorCode::BadRequest),
        (r#"{"id":1,"type":7}"#, Some(1), ErrorCode::BadRequest),
        (
            r#"{"id":1,"type":"launch-missiles"}"#,
            Some(1),
            ErrorCode::UnknownType,
        ),
        (
            r#"{"id":1,"type":"Hello","protocolVersion":1}"#,
            Some(1),
            ErrorCode::UnknownType,
        ),
        (r#"{"id":1,"type":"hello"}"#, Some(1), ErrorCode::BadRequest),
        (
            r#"{"id":1,"type":"hello","protocolVersion":1,"x":1}"#,
            Some(1),
            ErrorCode::BadRequest,
        ),
        (
            r#"{"id":1,"type":"verify-user","reason":""}"#,
            Some(1),
            ErrorCode::BadRequest,
        ),
        (
            r#"{"id":1,"type":"verify-user","reason":"a\u0000b"}"#,
            Some(1),
            ErrorCode::BadRequest,
        ),
        (
            r#"{"id":1,"type":"verify-user","reason":"ok","parentWindow":9007199254740992}"#,
            Some(1),
            ErrorCode::BadRequest,
        ),
        (
            r#"{"id":1,"type":"verify-user","reason":"ok","parentWindow":-1}"#,
            Some(1),
            ErrorCode::BadRequest,
        ),
        (
            r#"{"id":1,"type":"os-key-create","keyId":""}"#,
            Some(1),
            ErrorCode::BadRequest,
        ),
        (
            r#"{"id":1,"type":"os-key-create","keyId":"a/b"}"#,
            Some(1),
            ErrorCode::BadRequest,
        ),
        (
            r#"{"id":1,"type":"os-key-create","keyId":"a","challenge":"a+b"}"#,
            Some(1),
            ErrorCode::BadRequest,
        ),
        (
            r#"{"id":1,"type":"os-key-release","keyId":"a","key":"x"}"#,
            Some(1),
            ErrorCode::BadRequest,
        ),
        (
            r#"{"id":1,"type":"platform-get","origin":"https://a.example","options":[]}"#,
            Some(1),
            ErrorCode::BadRequest,
        ),
        (
            r#"{"id":1,"type":"platform-get","origin":"","options":{}}"#,
            Some(1),
            ErrorCode::BadRequest,
        ),
        (
            r#"{"id":1,"type":"platform-get","origin":"https://a.example","options":{},"attachment":"usb"}"#,
            Some(1),
            ErrorCode::BadRequest,
        ),
        (
            r#"{"id":1,"type":"cancel","requestId":"2"}"#,
            Some(1),
            ErrorCode::BadRequest,
        ),
        (
            r#"{"id":1,"type":"cancel"}"#,
            Some(1),
            ErrorCode::BadRequest,
        ),
    ];
    for (json, id, code) in cases {
        let e = refused(json);
        assert_eq!(e.id, *id, "{json}");
        assert_eq!(e.error.code(), *code, "{json}: {e}");
        let resp = serde_json::to_value(e.to_response()).unwrap();
        assert_eq!(resp["error"]["code"], serde_json::to_value(code).unwrap());
    }
}

#[test]
fn bounds_are_enforced() {
    let long_reason = "x".repeat(MAX_REASON_CHARS + 1);
    refused(&format!(
        r#"{{"id":1,"type":"verify-user","reason":"{long_reason}"}}"#
    ));
    let ok_reason = "é".repeat(MAX_REASON_CHARS);
    parse_request(format!(r#"{{"id":1,"type":"verify-user","reason":"{ok_reason}"}}"#).as_bytes())
        .unwrap();
    let long_id = "a".repeat(MAX_KEY_ID_CHARS + 1);
    refused(&format!(
        r#"{{"id":1,"type":"os-key-release","keyId":"{long_id}"}}"#
    ));
    let ch = latchkey_b64(&[1u8; MAX_CHALLENGE_BYTES + 1]);
    refused(&format!(
        r#"{{"id":1,"type":"os-key-release","keyId":"a","challenge":"{ch}"}}"#
    ));
    let origin = "a".repeat(MAX_ORIGIN_CHARS + 1);
    refused(&format!(
        r#"{{"id":1,"type":"platform-get","origin":"{origin}","options":{{}}}}"#
    ));
    let big = "A".repeat(MAX_OPTIONS_BYTES);
    refused(&format!(
        r#"{{"id":1,"type":"platform-get","origin":"https://a.example","options":{{"challenge":"{big}"}}}}"#
    ));
    let huge = vec![b' '; MAX_FRAME_BYTES + 1];
    assert_eq!(refused_bytes(&huge).error.code(), ErrorCode::BadFrame);
    // Deep nesting is refused by serde_json's recursion limit, not a stack overflow.
    let deep = format!(
        r#"{{"id":1,"type":"platform-get","origin":"https://a.example","options":{{"x":{}{}}}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    refused(&deep);
}

fn refused_bytes(b: &[u8]) -> ParseFailure {
    parse_request(b).err().unwrap()
}

fn latchkey_b64(b: &[u8]) -> String {
    crate::b64url::encode(b)
}

#[test]
fn unknown_type_message_is_clipped() {
    let t = "x".repeat(5000);
    let e = refused(&format!(r#"{{"id":1,"type":"{t}"}}"#));
    assert!(e.to_string().len() < 200);
}
