//! A small JSON ([RFC 8259](https://www.rfc-editor.org/rfc/rfc8259)) value, parser and writer for
//! every JSON form the wasm module reads or writes: ceremony options, responses and errors, vault
//! files and vault entries.
//!
//! Why not serde_json: its generic deserializer is instantiated once per type and per input kind,
//! and with the derived visitors that was about 150 KB of the wasm module before optimisation
//! (docs/design.md "wasm size"). This module is one non-generic parser and one writer; types convert
//! themselves by hand (`to_json` / `from_json`), with the member path in every error.
//!
//! Behaviour, checked against serde_json in the tests below:
//! - Input must be one JSON text (RFC 8259 §2), surrounded only by JSON white space.
//! - Strings are UTF-8; escapes are decoded, a lone surrogate escape (`"\ud800"`) is an error.
//! - Integers that fit `u64` / `i64` are kept exact; any other number is kept as its source text,
//!   so writing it back never needs float formatting, and parsing never needs float parsing (core's
//!   `str::parse::<f64>` tables cost about 18 KB of wasm): only [`Number::as_f64`] parses it (not
//!   compiled for wasm; two such numbers compare as exact decimals). Numbers outside the `f64` range (that would round to infinity) are an
//!   error, decided on the decimal text.
//! - Nesting deeper than [`MAX_DEPTH`] arrays/objects is an error (no stack exhaustion).
//! - Duplicate object keys are kept in order; [`Object::get`] answers with the last one, as
//!   `JSON.parse` does.
//! - Writing escapes `"`, `\` and control characters (`\n` … or `\u00XX`) only, like serde_json
//!   and `JSON.stringify`; object members are written in insertion order.

use std::fmt;
// Short name for the typed reads below.
use thiserror::Error;
use wrong_type as wrong;

/// Arrays and objects nested deeper than this are rejected (serde_json's default limit).
pub const MAX_DEPTH: usize = 128;

/// A JSON parse failure or a member of the wrong shape.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JsonError {
    /// The text is not JSON. `offset` is a byte offset into the input.
    #[error("invalid JSON at byte {offset}: {reason}")]
    Syntax {
        /// Byte offset of the problem.
        offset: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// Arrays/objects nested deeper than [`MAX_DEPTH`].
    #[error("JSON nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// A required member is absent.
    #[error("required member '{member}' is missing")]
    Missing {
        /// The member path (`user.id`).
        member: String,
    },
    /// A member (or the document) has the wrong JSON type.
    #[error("'{member}' must be {expected}")]
    WrongType {
        /// The member path (`pubKeyCredParams[0].alg`), or `value` for the document.
        member: String,
        /// What it must be: `a string`, `an object` …
        expected: &'static str,
    },
}

impl JsonError {
    /// Prefixes the member path with `parent` (`name` within `user` → `user.name`).
    #[must_use]
    pub fn within(self, parent: &str) -> Self {
        match self {
            Self::Missing { member } => Self::Missing {
                member: join_path(parent, &member),
            },
            Self::WrongType { member, expected } => Self::WrongType {
                member: join_path(parent, &member),
                expected,
            },
            other => other,
        }
    }
}

fn join_path(parent: &str, member: &str) -> String {
    if member.starts_with('[') {
        format!("{parent}{member}")
    } else {
        format!("{parent}.{member}")
    }
}

/// A JSON number: an exact integer, or a float with the text it was read from.
#[derive(Clone)]
pub struct Number(N);

#[derive(Clone)]
enum N {
    /// Non-negative integer.
    UInt(u64),
    /// Negative integer.
    Int(i64),
    /// Any other number: its source text (valid, in `f64` range; written back verbatim).
    Float(Box<str>),
}

impl Number {
    /// The value as `u64` if it is a non-negative integer.
    #[must_use]
    pub fn as_u64(&self) -> Option<u64> {
        match self.0 {
            N::UInt(u) => Some(u),
            _ => None,
        }
    }

    /// The value as `i64` if it is an integer in range.
    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        match self.0 {
            N::UInt(u) => i64::try_from(u).ok(),
            N::Int(i) => Some(i),
            N::Float(..) => None,
        }
    }

    /// The value as `f64` (integers may round). Not in the wasm module: float parsing costs about
    /// 17 KB there (docs/design.md "Collections and sorting in the wasm (size)").
    #[cfg(not(target_family = "wasm"))]
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn as_f64(&self) -> f64 {
        match self.0 {
            N::UInt(u) => u as f64,
            N::Int(i) => i as f64,
            // The text was checked to be a JSON number in f64 range: parsing cannot fail.
            N::Float(ref text) => text.parse().unwrap_or(0.0),
        }
    }

    fn write(&self, out: &mut String) {
        match &self.0 {
            N::UInt(u) => write_u64(out, *u),
            N::Int(i) => {
                out.push('-');
                write_u64(out, i.unsigned_abs());
            }
            N::Float(text) => out.push_str(text),
        }
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (N::UInt(a), N::UInt(b)) => a == b,
            (N::Int(a), N::Int(b)) => a == b,
            // Exact decimal equality (no float parsing in the wasm module: `str::parse::<f64>`
            // is about 6 KB): `1.0 == 1.00` and `-0.0 == 0`, as in `f64`; two different decimals
            // that only round to the same `f64` (17+ significant digits) are not equal.
            (N::Float(a), N::Float(b)) => Decimal::of(a) == Decimal::of(b),
            _ => false,
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.write(&mut s);
        f.write_str(&s)
    }
}

impl From<u64> for Number {
    fn from(u: u64) -> Self {
        Self(N::UInt(u))
    }
}

impl From<i64> for Number {
    fn from(i: i64) -> Self {
        u64::try_from(i).map_or(Self(N::Int(i)), |u| Self(N::UInt(u)))
    }
}

fn write_u64(out: &mut String, mut u: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        // `u % 10` is a single decimal digit.
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(char::from(b));
    }
}

/// A JSON value.
#[derive(Clone, PartialEq, Default)]
pub enum Value {
    /// `null`.
    #[default]
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object.
    Object(Object),
}

/// Values can carry secrets (a vault entry's private key is a base64url string), so `Debug` shows
/// the shape only: member names, types and string lengths, never string contents.
impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("null"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Number(n) => n.fmt(f),
            Self::String(s) => write!(f, "<string, {} bytes>", s.len()),
            Self::Array(a) => f.debug_list().entries(a).finish(),
            Self::Object(o) => o.fmt(f),
        }
    }
}

impl Value {
    /// The string, if this is one.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    #[must_use]
    pub const fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A non-negative integer.
    #[must_use]
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Self::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// An integer in `i64` range.
    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// Any number, as `f64` (not in the wasm module, see [`Number::as_f64`]).
    #[cfg(not(target_family = "wasm"))]
    #[must_use]
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Number(n) => Some(n.as_f64()),
            _ => None,
        }
    }

    /// The array, if this is one.
    #[must_use]
    pub fn as_array(&self) -> Option<&Vec<Self>> {
        match self {
            Self::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The object, if this is one.
    #[must_use]
    pub const fn as_object(&self) -> Option<&Object> {
        match self {
            Self::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The object, mutably, if this is one.
    pub fn as_object_mut(&mut self) -> Option<&mut Object> {
        match self {
            Self::Object(o) => Some(o),
            _ => None,
        }
    }

    /// `true` for `null`.
    #[must_use]
    pub const fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }

    /// Member `key` if this is an object that has it.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Self> {
        self.as_object().and_then(|o| o.get(key))
    }

    /// The object, or `WrongType` naming `what`.
    ///
    /// # Errors
    /// [`JsonError::WrongType`] if this is not an object.
    pub fn expect_object(&self, what: &str) -> Result<&Object, JsonError> {
        self.as_object().ok_or_else(|| wrong(what, "an object"))
    }

    /// Replaces this value with `null` and returns it.
    pub fn take(&mut self) -> Self {
        std::mem::take(self)
    }

    /// The JSON text.
    #[must_use]
    pub fn to_json_string(&self) -> String {
        let mut out = String::new();
        self.write_to(&mut out);
        out
    }

    /// Appends the JSON text to `out`.
    pub fn write_to(&self, out: &mut String) {
        match self {
            Self::Null => out.push_str("null"),
            Self::Bool(true) => out.push_str("true"),
            Self::Bool(false) => out.push_str("false"),
            Self::Number(n) => n.write(out),
            Self::String(s) => write_string(out, s),
            Self::Array(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write_to(out);
                }
                out.push(']');
            }
            Self::Object(o) => o.write_to(out),
        }
    }
}

/// Writes `s` as a JSON string literal.
pub fn write_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        // `i` is an ASCII byte and `start` 0 or just past one: char boundaries, so `get` never
        // misses. (Not `&s[start..i]`: see `Parser::slice`.)
        out.push_str(s.get(start..i).unwrap_or_default());
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

/// Displays a string as a JSON string literal: the way error messages quote text a page or a stored
/// record supplied (an RP ID, an origin), with quotes and control characters escaped. Used instead of
/// `{:?}`, whose escaping links `core`'s `str`/`char` `Debug` and its Unicode tables into the wasm
/// (about 2 KB of module). Printable text reads the same either way: `"example.com"`.
#[derive(Debug, Clone, Copy)]
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        write_string(&mut out, self.0);
        f.write_str(&out)
    }
}

impl fmt::Display for Value {
    /// The JSON text (same as [`Value::to_json_string`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json_string())
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Self::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Self::String(s)
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Self::String(s.clone())
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}
impl From<u64> for Value {
    fn from(u: u64) -> Self {
        Self::Number(u.into())
    }
}
impl From<u32> for Value {
    fn from(u: u32) -> Self {
        Self::Number(u64::from(u).into())
    }
}
impl From<usize> for Value {
    fn from(u: usize) -> Self {
        // usize is at most 64 bits on every target Latchkey builds for.
        Self::Number(u64::try_from(u).unwrap_or(u64::MAX).into())
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Self::Number(i.into())
    }
}
impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Self::Number(i64::from(i).into())
    }
}
impl From<Vec<Self>> for Value {
    fn from(a: Vec<Self>) -> Self {
        Self::Array(a)
    }
}
impl From<Object> for Value {
    fn from(o: Object) -> Self {
        Self::Object(o)
    }
}
impl<T: Into<Self>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map_or(Self::Null, Into::into)
    }
}
impl<T: Into<Self>> FromIterator<T> for Value {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Self::Array(iter.into_iter().map(Into::into).collect())
    }
}

/// A JSON object: members in insertion (or document) order.
#[derive(Clone, PartialEq, Default)]
pub struct Object(Vec<(String, Value)>);

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

/// `WrongType` for `member` (what every typed read here reports).
#[must_use]
pub fn wrong_type(member: &str, expected: &'static str) -> JsonError {
    JsonError::WrongType {
        member: member.to_owned(),
        expected,
    }
}

/// The items of a `sequence<DOMString>`-like array (errors name `[i]`; wrap with
/// [`JsonError::within`] for the member).
///
/// # Errors
/// `WrongType` for the first item that is not a string.
pub fn strings(items: &[Value]) -> Result<Vec<String>, JsonError> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| JsonError::WrongType {
                    member: format!("[{i}]"),
                    expected: "a string",
                })
        })
        .collect()
}

impl Object {
    /// An empty object.
    #[must_use]
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// An empty object with room for `n` members.
    #[must_use]
    pub fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }

    /// Number of members (duplicates counted).
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `true` if there are no members.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The (last) member named `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The (last) member named `key`, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.0
            .iter_mut()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// `true` if a member named `key` exists.
    #[must_use]
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    /// Sets member `key` (replacing every earlier one of that name), returning the old value.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Value>) -> Option<Value> {
        self.insert_value(key.into(), value.into())
    }

    /// [`Object::insert`] after the conversions: one copy, not one per argument type (wasm size).
    #[inline(never)]
    fn insert_value(&mut self, key: String, value: Value) -> Option<Value> {
        let old = self.remove(&key);
        self.0.push((key, value));
        old
    }

    /// Builder form of [`Object::insert`].
    #[must_use]
    #[inline]
    pub fn with(self, key: &str, value: impl Into<Value>) -> Self {
        self.with_value(key, value.into())
    }

    /// [`Object::with`] after the conversion: one copy in the wasm rather than one per value type
    /// (issue 6).
    #[must_use]
    #[inline(never)]
    pub fn with_value(mut self, key: &str, value: Value) -> Self {
        self.insert_value(key.to_owned(), value);
        self
    }

    /// Sets member `key` only when `value` is `Some` (serde's `skip_serializing_if = "Option::is_none"`).
    #[must_use]
    pub fn with_some<T: Into<Value>>(self, key: &str, value: Option<T>) -> Self {
        match value {
            Some(v) => self.with(key, v),
            None => self,
        }
    }

    /// Appends a member without looking for an earlier one of the same name (for building large
    /// objects whose keys are known to be distinct).
    pub fn push(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        self.0.push((key.into(), value.into()));
    }

    /// Removes every member named `key`, returning the last one's value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let mut found = None;
        let mut i = 0;
        while i < self.0.len() {
            if self.0[i].0 == key {
                found = Some(self.0.remove(i).1);
            } else {
                i += 1;
            }
        }
        found
    }

    /// Members in order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// Member names in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    /// Appends the JSON text to `out`.
    pub fn write_to(&self, out: &mut String) {
        out.push('{');
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_string(out, k);
            out.push(':');
            v.write_to(out);
        }
        out.push('}');
    }

    /// The JSON text.
    #[must_use]
    pub fn to_json_string(&self) -> String {
        let mut out = String::new();
        self.write_to(&mut out);
        out
    }

    // ---- typed members (errors name the member; wrap with `JsonError::within` for nesting) ----

    /// A present member (of any type, `null` included).
    ///
    /// # Errors
    /// [`JsonError::Missing`].
    pub fn req(&self, key: &str) -> Result<&Value, JsonError> {
        self.get(key).ok_or_else(|| JsonError::Missing {
            member: key.to_owned(),
        })
    }

    /// A member that is absent or `null` is `None`.
    fn opt(&self, key: &str) -> Option<&Value> {
        self.get(key).filter(|v| !v.is_null())
    }

    /// A required string member.
    ///
    /// # Errors
    /// `Missing` or `WrongType`.
    pub fn req_str(&self, key: &str) -> Result<&str, JsonError> {
        self.req(key)?
            .as_str()
            .ok_or_else(|| wrong(key, "a string"))
    }

    /// An optional string member (absent or `null` → `None`).
    ///
    /// # Errors
    /// `WrongType`.
    pub fn opt_str(&self, key: &str) -> Result<Option<&str>, JsonError> {
        self.opt(key)
            .map(|v| v.as_str().ok_or_else(|| wrong(key, "a string")))
            .transpose()
    }

    /// A required boolean member.
    ///
    /// # Errors
    /// `Missing` or `WrongType`.
    pub fn req_bool(&self, key: &str) -> Result<bool, JsonError> {
        self.req(key)?
            .as_bool()
            .ok_or_else(|| wrong(key, "a boolean"))
    }

    /// An optional boolean member.
    ///
    /// # Errors
    /// `WrongType`.
    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, JsonError> {
        self.opt(key)
            .map(|v| v.as_bool().ok_or_else(|| wrong(key, "a boolean")))
            .transpose()
    }

    /// A required non-negative integer member.
    ///
    /// # Errors
    /// `Missing` or `WrongType`.
    pub fn req_u64(&self, key: &str) -> Result<u64, JsonError> {
        self.req(key)?
            .as_u64()
            .ok_or_else(|| wrong(key, "a non-negative integer"))
    }

    /// A required integer member in `u32` range.
    ///
    /// # Errors
    /// `Missing` or `WrongType`.
    pub fn req_u32(&self, key: &str) -> Result<u32, JsonError> {
        u32::try_from(self.req_u64(key)?).map_err(|_| wrong(key, "an integer from 0 to 4294967295"))
    }

    /// A boolean member that may be absent (`false`) but not `null` (serde's `#[serde(default)]`).
    ///
    /// # Errors
    /// `WrongType`.
    pub fn default_false(&self, key: &str) -> Result<bool, JsonError> {
        self.get(key).map_or(Ok(false), |v| {
            v.as_bool().ok_or_else(|| wrong(key, "a boolean"))
        })
    }

    /// An optional non-negative integer member.
    ///
    /// # Errors
    /// `WrongType`.
    pub fn opt_u64(&self, key: &str) -> Result<Option<u64>, JsonError> {
        self.opt(key)
            .map(|v| {
                v.as_u64()
                    .ok_or_else(|| wrong(key, "a non-negative integer"))
            })
            .transpose()
    }

    /// A required integer member.
    ///
    /// # Errors
    /// `Missing` or `WrongType`.
    pub fn req_i64(&self, key: &str) -> Result<i64, JsonError> {
        self.req(key)?
            .as_i64()
            .ok_or_else(|| wrong(key, "an integer"))
    }

    /// An optional number member, as `f64` (not in the wasm module, see [`Number::as_f64`]).
    ///
    /// # Errors
    /// `WrongType`.
    #[cfg(not(target_family = "wasm"))]
    pub fn opt_f64(&self, key: &str) -> Result<Option<f64>, JsonError> {
        self.opt(key)
            .map(|v| v.as_f64().ok_or_else(|| wrong(key, "a number")))
            .transpose()
    }

    /// A required object member.
    ///
    /// # Errors
    /// `Missing` or `WrongType`.
    pub fn req_object(&self, key: &str) -> Result<&Self, JsonError> {
        self.req(key)?
            .as_object()
            .ok_or_else(|| wrong(key, "an object"))
    }

    /// An optional object member.
    ///
    /// # Errors
    /// `WrongType`.
    pub fn opt_object(&self, key: &str) -> Result<Option<&Self>, JsonError> {
        self.opt(key)
            .map(|v| v.as_object().ok_or_else(|| wrong(key, "an object")))
            .transpose()
    }

    /// A required array member.
    ///
    /// # Errors
    /// `Missing` or `WrongType`.
    pub fn req_array(&self, key: &str) -> Result<&Vec<Value>, JsonError> {
        self.req(key)?
            .as_array()
            .ok_or_else(|| wrong(key, "an array"))
    }

    /// An optional array member.
    ///
    /// # Errors
    /// `WrongType`.
    pub fn opt_array(&self, key: &str) -> Result<Option<&Vec<Value>>, JsonError> {
        self.opt(key)
            .map(|v| v.as_array().ok_or_else(|| wrong(key, "an array")))
            .transpose()
    }
}

impl Object {
    /// Sorts the members by key (byte order, stable), keeping only the last of a repeated key
    /// (the one [`Object::get`] answers with), in place; nested values are left as they are.
    pub fn sort_by_key(&mut self) {
        // Reversed, a stable sort and a dedup keep the last of a repeated key.
        self.0.reverse();
        crate::sort::sort_by(&mut self.0, |a, b| a.0.cmp(&b.0));
        self.0.dedup_by(|later, kept| later.0 == kept.0);
    }

    /// The members' values, mutably, in order.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Value> {
        self.0.iter_mut().map(|(_, v)| v)
    }
}

impl IntoIterator for Object {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for Object {
    /// Collects members as given (no duplicate check; see [`Object::push`]).
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

/// Reads the members of a form one after the other, keeping the FIRST error instead of returning
/// at once; [`FirstError::finish`] then answers with it. The value is built whole and dropped in
/// one piece on failure, where `?` after each member needs its own drop path for the members
/// already read (about 2 KB of wasm for a record). Same error as `?` in the same order gives.
#[derive(Debug, Default)]
pub struct FirstError(Option<JsonError>);

impl FirstError {
    /// The value, or (after an error, which is kept if it is the first) `T::default()`.
    pub fn take<T: Default>(&mut self, result: Result<T, JsonError>) -> T {
        result.unwrap_or_else(|e| {
            self.0.get_or_insert(e);
            T::default()
        })
    }

    /// `value`, or the first error.
    ///
    /// # Errors
    /// The first error [`FirstError::take`] was given.
    pub fn finish<T>(self, value: T) -> Result<T, JsonError> {
        match self.0 {
            None => Ok(value),
            Some(e) => Err(e),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// Parses one JSON text.
///
/// # Errors
/// [`JsonError::Syntax`] or [`JsonError::TooDeep`].
pub fn parse(text: &str) -> Result<Value, JsonError> {
    let mut p = Parser {
        s: text,
        b: text.as_bytes(),
        i: 0,
    };
    p.ws();
    let v = p.value(0)?;
    p.end()?;
    Ok(v)
}

/// Parses one JSON text from bytes (which must be UTF-8).
///
/// # Errors
/// As [`parse`], and `Syntax` for bytes that are not UTF-8.
pub fn parse_bytes(bytes: &[u8]) -> Result<Value, JsonError> {
    let text = std::str::from_utf8(bytes).map_err(|e| JsonError::Syntax {
        offset: e.valid_up_to(),
        reason: "not UTF-8",
    })?;
    parse(text)
}

/// Parses a JSON text that must be an object, as `(key, raw member text)` pairs in document order:
/// every member is checked to be valid JSON but not decoded (serde_json's `RawValue`), so a large
/// object of mostly untouched members is cheap to read. Pass a member's text to [`parse`] to use it.
///
/// # Errors
/// `Syntax`, `TooDeep`, or `WrongType` if the document is not an object.
pub fn parse_object_raw(text: &str) -> Result<Vec<(String, &str)>, JsonError> {
    let mut members = Vec::new();
    walk_object(text, &mut |p| {
        let key = p.key()?;
        p.ws();
        let start = p.i;
        p.skip_value(1)?;
        members.push((key, p.slice(start..p.i)?));
        Ok(())
    })?;
    Ok(members)
}

/// The object walk [`parse_object_raw`] and [`parse_object_with`] share: `text` must be one
/// object; `member` reads each member from its key on (whitespace before it is skipped), and the
/// separators, the closing brace and the end of the text are checked here.
fn walk_object<'a>(
    text: &'a str,
    member: &mut dyn FnMut(&mut Parser<'a>) -> Result<(), JsonError>,
) -> Result<(), JsonError> {
    let mut p = Parser {
        s: text,
        b: text.as_bytes(),
        i: 0,
    };
    p.ws();
    if p.peek() != Some(b'{') {
        return Err(wrong("value", "an object"));
    }
    p.i += 1;
    p.ws();
    if p.peek() == Some(b'}') {
        p.i += 1;
    } else {
        loop {
            p.ws();
            member(&mut p)?;
            p.ws();
            if p.list_end(b'}')? {
                break;
            }
        }
    }
    p.end()
}

/// Parses a JSON text that must be an object, handing each member to `member` in document order
/// as `(key, value)` without building the object: no member list, and no allocation for a key
/// without escapes. For small forms read thousands of times (a vault's entry envelopes).
///
/// # Errors
/// `Syntax`, `TooDeep`, `WrongType` if the document is not an object, or the first error
/// `member` returns.
pub fn parse_object_with(
    text: &str,
    member: &mut dyn FnMut(&str, Value) -> Result<(), JsonError>,
) -> Result<(), JsonError> {
    walk_object(text, &mut |p| {
        if p.peek() != Some(b'"') {
            return p.err("expected a string key");
        }
        let quote = p.i;
        p.skip_string()?;
        let raw = p.slice(quote + 1..p.i - 1)?;
        let unescaped;
        let key = if raw.contains('\\') {
            let mut k = Parser {
                s: text,
                b: text.as_bytes(),
                i: quote,
            };
            unescaped = k.string()?;
            unescaped.as_str()
        } else {
            raw
        };
        p.ws();
        if p.peek() != Some(b':') {
            return p.err("expected ':'");
        }
        p.i += 1;
        p.ws();
        let value = p.value(1)?;
        member(key, value)
    })
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    /// The text of `range`, whose ends the parser found at ASCII bytes (or the ends of the text),
    /// so always char boundaries. Read with `get` and reported as a syntax error if that ever
    /// failed, rather than by indexing: indexing a `str` links `core`'s char-boundary panic with
    /// its `Debug` formatting and Unicode tables into the wasm (about 9 KB of module, together with
    /// the other `str` indexing this crate avoids).
    fn slice(&self, range: std::ops::Range<usize>) -> Result<&'a str, JsonError> {
        match self.s.get(range.clone()) {
            Some(text) => Ok(text),
            None => Err(JsonError::Syntax {
                offset: range.start,
                reason: "not at a character boundary",
            }),
        }
    }

    fn err<T>(&self, reason: &'static str) -> Result<T, JsonError> {
        Err(JsonError::Syntax {
            offset: self.i,
            reason,
        })
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.i += 1;
        }
    }

    fn end(&mut self) -> Result<(), JsonError> {
        self.ws();
        if self.i == self.b.len() {
            Ok(())
        } else {
            self.err("trailing characters")
        }
    }

    fn literal(&mut self, word: &'static str) -> Result<(), JsonError> {
        if self.b[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(())
        } else {
            self.err("expected a value")
        }
    }

    /// After a member/element: `,` (more follow; `false`) or `close` (`true`).
    fn list_end(&mut self, close: u8) -> Result<bool, JsonError> {
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                Ok(false)
            }
            Some(c) if c == close => {
                self.i += 1;
                Ok(true)
            }
            None => self.err("unexpected end of input"),
            _ => self.err(if close == b'}' {
                "expected ',' or '}'"
            } else {
                "expected ',' or ']'"
            }),
        }
    }

    /// An object key and its `:`.
    fn key(&mut self) -> Result<String, JsonError> {
        if self.peek() != Some(b'"') {
            return self.err("expected a string key");
        }
        let key = self.string()?;
        self.ws();
        if self.peek() != Some(b':') {
            return self.err("expected ':'");
        }
        self.i += 1;
        Ok(key)
    }

    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        match self.peek() {
            None => self.err("unexpected end of input"),
            Some(b'n') => self.literal("null").map(|()| Value::Null),
            Some(b't') => self.literal("true").map(|()| Value::Bool(true)),
            Some(b'f') => self.literal("false").map(|()| Value::Bool(false)),
            Some(b'"') => self.string().map(Value::String),
            Some(b'-' | b'0'..=b'9') => self.number().map(Value::Number),
            Some(b'[') => {
                if depth >= MAX_DEPTH {
                    return Err(JsonError::TooDeep);
                }
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(Value::Array(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    if self.list_end(b']')? {
                        return Ok(Value::Array(items));
                    }
                }
            }
            Some(b'{') => {
                if depth >= MAX_DEPTH {
                    return Err(JsonError::TooDeep);
                }
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(Value::Object(Object(members)));
                }
                loop {
                    self.ws();
                    let key = self.key()?;
                    self.ws();
                    let v = self.value(depth + 1)?;
                    members.push((key, v));
                    self.ws();
                    if self.list_end(b'}')? {
                        return Ok(Value::Object(Object(members)));
                    }
                }
            }
            Some(_) => self.err("expected a value"),
        }
    }

    /// Validates one value without building it.
    fn skip_value(&mut self, depth: usize) -> Result<(), JsonError> {
        match self.peek() {
            Some(b'"') => self.skip_string(),
            Some(b'[' | b'{') => {
                let close = if self.peek() == Some(b'[') {
                    b']'
                } else {
                    b'}'
                };
                if depth >= MAX_DEPTH {
                    return Err(JsonError::TooDeep);
                }
                self.i += 1;
                self.ws();
                if self.peek() == Some(close) {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.ws();
                    if close == b'}' {
                        if self.peek() != Some(b'"') {
                            return self.err("expected a string key");
                        }
                        self.skip_string()?;
                        self.ws();
                        if self.peek() != Some(b':') {
                            return self.err("expected ':'");
                        }
                        self.i += 1;
                        self.ws();
                    }
                    self.skip_value(depth + 1)?;
                    self.ws();
                    if self.list_end(close)? {
                        return Ok(());
                    }
                }
            }
            _ => self.value(depth).map(drop),
        }
    }

    /// Skips a string without unescaping (escapes are still checked).
    fn skip_string(&mut self) -> Result<(), JsonError> {
        self.i += 1;
        loop {
            self.plain_run();
            match self.peek() {
                None => return self.err("unterminated string"),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    let mut sink = String::new();
                    self.escape(&mut sink)?;
                }
                Some(_) => return self.err("control character in string"),
            }
        }
    }

    /// Moves past the string bytes that need no attention (all but `"`, `\\` and control
    /// characters) in one tight loop: strings are most of a vault's text, and a byte-at-a-time
    /// `match` made loading 10,000 entries in the wasm about 1.6 times slower.
    fn plain_run(&mut self) {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        // Eight bytes at a time: a byte's high bit is set in `stop` when it is '"', '\\' or below
        // 0x20 (the borrow of `x - n` can also flag bytes after such a byte, never before it, so
        // the lowest flagged byte is the first one to stop at).
        let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGHS;
        while let Some(chunk) = self.b.get(self.i..self.i + 8) {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(chunk);
            let x = u64::from_le_bytes(bytes);
            let stop = below(x ^ (ONES * u64::from(b'"')), 1)
                | below(x ^ (ONES * u64::from(b'\\')), 1)
                | below(x, 0x20);
            if stop != 0 {
                // Whole bytes: at most 7, so the cast cannot truncate.
                self.i += (stop.trailing_zeros() / 8) as usize;
                return;
            }
            self.i += 8;
        }
        let rest = &self.b[self.i..];
        self.i += rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            .unwrap_or(rest.len());
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.i += 1; // the opening quote
        let mut out = String::new();
        let mut start = self.i;
        loop {
            // Bytes of a multi-byte character are all >= 0x80: never '"' or '\\'.
            self.plain_run();
            match self.peek() {
                None => return self.err("unterminated string"),
                Some(b'"') => {
                    out.push_str(self.slice(start..self.i)?);
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(self.slice(start..self.i)?);
                    self.escape(&mut out)?;
                    start = self.i;
                }
                Some(_) => return self.err("control character in string"),
            }
        }
    }

    /// Decodes the escape at `self.i` (a backslash) into `out`.
    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
        self.i += 1;
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.i += 1;
                let hi = self.hex4()?;
                let code = if (0xd800..0xdc00).contains(&hi) {
                    if !self.b[self.i..].starts_with(b"\\u") {
                        return self.err("lone leading surrogate in \\u escape");
                    }
                    self.i += 2;
                    let lo = self.hex4()?;
                    if !(0xdc00..0xe000).contains(&lo) {
                        return self.err("lone leading surrogate in \\u escape");
                    }
                    0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                } else if (0xdc00..0xe000).contains(&hi) {
                    return self.err("lone trailing surrogate in \\u escape");
                } else {
                    hi
                };
                let Some(c) = char::from_u32(code) else {
                    return self.err("invalid \\u escape");
                };
                out.push(c);
                return Ok(());
            }
            None => return self.err("unterminated string"),
            Some(_) => return self.err("invalid escape"),
        };
        out.push(c);
        self.i += 1;
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return self.err("invalid \\u escape"),
            };
            v = (v << 4) | u32::from(d);
            self.i += 1;
        }
        Ok(v)
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<Number, JsonError> {
        let start = self.i;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.i += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return self.err("leading zero in number");
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return self.err("invalid number"),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return self.err("invalid number");
            }
            integer = false;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return self.err("invalid number");
            }
            integer = false;
        }
        let text = self.slice(start..self.i)?;
        if integer {
            if negative {
                // `-0` stays a float (JSON.parse gives -0).
                if let Ok(i @ ..=-1) = text.parse::<i64>() {
                    return Ok(i.into());
                }
            } else if let Ok(u) = text.parse::<u64>() {
                return Ok(u.into());
            }
        }
        if float_overflows(text) {
            return Err(JsonError::Syntax {
                offset: start,
                reason: "number out of range",
            });
        }
        Ok(Number(N::Float(text.into())))
    }
}

/// 2^1024 − 2^970, the smallest magnitude that rounds to infinity as an `f64` (halfway between
/// `f64::MAX` and 2^1024; ties go to the even neighbour, 2^1024): its 309 decimal digits.
const F64_OVERFLOW_DIGITS: &str = "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";

/// A valid JSON number's exact value as `±0.D × 10^e`, `D` its significant digits (no leading or
/// trailing zeros), read in place from the text. Zero is `D` empty, `e` 0 and not negative (so
/// `-0` equals `0`).
struct Decimal<'a> {
    negative: bool,
    /// The mantissa's digits without the point: integer part, then fraction.
    int_part: &'a [u8],
    frac_part: &'a [u8],
    /// `D` is `len` digits from index `start` of `int_part ++ frac_part`.
    start: usize,
    len: usize,
    e: i64,
}

impl<'a> Decimal<'a> {
    fn of(text: &'a str) -> Self {
        let unsigned = text.strip_prefix('-');
        let negative = unsigned.is_some();
        let unsigned = unsigned.unwrap_or(text);
        let (mantissa, exponent) = unsigned.split_once(['e', 'E']).unwrap_or((unsigned, ""));
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let (int_part, frac_part) = (int_part.as_bytes(), frac_part.as_bytes());
        let all = || int_part.iter().chain(frac_part);
        let total = int_part.len() + frac_part.len();
        let Some(start) = all().position(|&d| d != b'0') else {
            return Self {
                negative: false,
                int_part,
                frac_part,
                start: 0,
                len: 0,
                e: 0,
            };
        };
        let trailing_zeros = all().rev().take_while(|&&d| d == b'0').count();
        let (negative_exp, exp_digits) = match exponent.strip_prefix('-') {
            Some(digits) => (true, digits),
            None => (false, exponent.strip_prefix('+').unwrap_or(exponent)),
        };
        let mut exp: i64 = 0;
        for d in exp_digits.bytes() {
            exp = exp.saturating_mul(10).saturating_add(i64::from(d - b'0'));
        }
        if negative_exp {
            exp = -exp;
        }
        let int_len = i64::try_from(int_part.len()).unwrap_or(i64::MAX);
        let lz = i64::try_from(start).unwrap_or(i64::MAX);
        Self {
            negative,
            int_part,
            frac_part,
            start,
            len: total - start - trailing_zeros,
            e: int_len.saturating_sub(lz).saturating_add(exp),
        }
    }

    /// Digit `i` of `D` as an ASCII byte; `b'0'` past its end.
    fn digit(&self, i: usize) -> u8 {
        if i >= self.len {
            return b'0';
        }
        let i = self.start + i;
        match self.int_part.get(i) {
            Some(&d) => d,
            None => self
                .frac_part
                .get(i - self.int_part.len())
                .copied()
                .unwrap_or(b'0'),
        }
    }
}

impl PartialEq for Decimal<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.negative == other.negative
            && self.e == other.e
            && self.len == other.len
            && (0..self.len).all(|i| self.digit(i) == other.digit(i))
    }
}

/// The integer part of the JSON number `text` (valid syntax), clamped to `0..=u32::MAX`. For the
/// shortest text of an `f64` (what `JSON.stringify` writes) this is exactly
/// `f64.clamp(0, u32::MAX) as u32` (WebIDL `unsigned long` without `[EnforceRange]`, fraction cut).
pub(crate) fn clamp_to_u32(text: &str) -> u32 {
    let d = Decimal::of(text);
    if d.negative || d.e <= 0 {
        return 0; // negative, zero, or below 1
    }
    if d.e > 10 {
        return u32::MAX; // at least 10^10
    }
    // The first `e` digits (at most 10, zeros past the end) are the integer part.
    let mut n: u64 = 0;
    for i in 0..d.e.unsigned_abs() {
        let i = usize::try_from(i).unwrap_or(usize::MAX);
        n = n * 10 + u64::from(d.digit(i) - b'0');
    }
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `true` if the JSON number `text` (valid syntax) would round to ±infinity as an `f64`, decided on
/// the digits alone: with the value written as `0.D × 10^e` ([`Decimal`]), below `e = 309` it is
/// finite, above it is not, and at 309 `D` is compared with [`F64_OVERFLOW_DIGITS`].
fn float_overflows(text: &str) -> bool {
    let d = Decimal::of(text);
    if d.len == 0 {
        return false; // zero
    }
    match d.e.cmp(&309) {
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Greater => true,
        // At or above the halfway point (ties go to 2^1024). Both have no leading zeros and the
        // same length scale, so padding the shorter with zeros compares the values.
        std::cmp::Ordering::Equal => {
            let limit = F64_OVERFLOW_DIGITS.as_bytes();
            let len = d.len.max(limit.len());
            (0..len)
                .map(|i| d.digit(i).cmp(&limit.get(i).copied().unwrap_or(b'0')))
                .find(|o| o.is_ne())
                .is_none_or(std::cmp::Ordering::is_gt)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// The same text through serde_json (the reference) and this module.
    fn same_as_serde(text: &str) {
        let ours = parse(text);
        let theirs = serde_json::from_str::<serde_json::Value>(text);
        match (&ours, &theirs) {
            (Ok(a), Ok(b)) => {
                // Compare through serde_json's own reading of our output.
                let again: serde_json::Value = serde_json::from_str(&a.to_json_string()).unwrap();
                assert_eq!(&again, b, "{text}");
            }
            (Err(_), Err(_)) => {}
            _ => panic!("{text}: ours {ours:?}, serde_json {}", theirs.is_ok()),
        }
    }

    #[test]
    fn agrees_with_serde_json() {
        for text in [
            "null",
            "true",
            "false",
            "0",
            "-0",
            "1",
            "-1",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "1.5",
            "-1.25e-3",
            "1E+2",
            "1e400",
            "-1e400",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "+1",
            "\"\"",
            "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"",
            "\"\\u00e9\\u20ac\\ud83d\\ude00\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"\\x\"",
            "\"\\u12\"",
            "\"tab\there\"",
            "\"é€😀\"",
            "[]",
            "[1,2,[3,{}]]",
            "[1,]",
            "[,1]",
            "{}",
            "{\"a\":1,\"b\":[true,null]}",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{1:2}",
            "{\"a\":1,\"a\":2}",
            " \t\n\r[ 1 , 2 ] \n",
            "[1] x",
            "",
            "   ",
            "nul",
            "truex",
            "[\"unterminated",
            "{\"a\":",
        ] {
            same_as_serde(text);
        }
    }

    #[test]
    fn float_range_is_decided_like_str_parse() {
        let limit = F64_OVERFLOW_DIGITS;
        let below = format!("{}1", &limit[..308]); // ends …791
        let cases = [
            "0.0".to_owned(),
            "-0".to_owned(),
            "1.5".to_owned(),
            "1e308".to_owned(),
            "1e309".to_owned(),
            "-1e309".to_owned(),
            "1.7976931348623157e308".to_owned(),
            "1.7976931348623158e308".to_owned(),
            "1.7976931348623159e308".to_owned(),
            "17976931348623158e292".to_owned(),
            "0.17976931348623158079e309".to_owned(),
            "0.0000179769313486231581e314".to_owned(),
            "1e-400".to_owned(),
            "1e99999999999999999999999".to_owned(),
            "1e-99999999999999999999999".to_owned(),
            "0e99999999999999999999999".to_owned(),
            "000.000e5".replace("000.", "0."),
            limit.to_owned(),
            format!("{limit}.0"),
            format!("-{limit}.000001"),
            below.clone(),
            format!("{below}.999999"),
            format!("{}e-10", &limit[..300]),
            format!("{}.{}E+9", &limit[..300], &limit[300..]),
            format!("{}.{}E+9", &limit[..300], &below[300..]),
        ];
        for text in &cases {
            let finite = text.parse::<f64>().unwrap().is_finite();
            assert_eq!(float_overflows(text), !finite, "{text}");
            match parse(text) {
                Ok(v) => {
                    assert!(finite, "{text}");
                    assert_eq!(v.to_json_string(), *text);
                    #[cfg(not(target_family = "wasm"))] // as_f64 is not built for wasm
                    if v.as_u64().is_none() && v.as_i64().is_none() {
                        assert_eq!(v.as_f64(), text.parse::<f64>().ok());
                    }
                }
                Err(e) => assert!(!finite && matches!(e, JsonError::Syntax { .. }), "{text}"),
            }
        }
        assert_eq!(parse("1.0").unwrap(), parse("1.00").unwrap());
        assert_ne!(parse("1.0").unwrap(), parse("1.5").unwrap());
    }

    #[test]
    fn floats_compare_as_exact_decimals() {
        // Equal exactly when their f64 values are, for up to 16 significant digits.
        let texts = [
            "1.0",
            "1.00",
            "1.5",
            "0.15e1",
            "15e-1",
            "150e-2",
            "-1.5",
            "-0.0",
            "0.0",
            "0e5",
            "-0e-5",
            "1e2",
            "100.0",
            "1.0e2",
            "0.001",
            "1e-3",
            "10e-4",
            "0.0010",
            "12.34",
            "1234e-2",
            "1.7976931348623157e308",
            "17976931348623157e292",
            "-2.5e-300",
            "-25e-301",
        ];
        for a in texts {
            for b in texts {
                let (fa, fb) = (a.parse::<f64>().unwrap(), b.parse::<f64>().unwrap());
                assert_eq!(parse(a).unwrap() == parse(b).unwrap(), fa == fb, "{a} {b}");
            }
        }
        // Beyond f64's precision the decimals still differ (f64 would call these equal).
        assert_ne!(parse("0.1").unwrap(), parse("0.10000000000000001").unwrap());
    }

    #[test]
    fn sort_by_key_keeps_the_last_of_a_repeated_key() {
        let Value::Object(mut o) = parse(r#"{"b":1,"a":{"z":1,"y":2},"b":2,"":0,"a":3}"#).unwrap()
        else {
            panic!("not an object");
        };
        o.sort_by_key();
        assert_eq!(Value::Object(o).to_json_string(), r#"{"":0,"a":3,"b":2}"#);
    }

    #[test]
    fn duplicate_keys_answer_with_the_last_like_json_parse() {
        let v = parse(r#"{"a":1,"a":2}"#).unwrap();
        assert_eq!(v.get("a").and_then(Value::as_u64), Some(2));
    }

    #[test]
    fn integers_stay_exact_and_floats_write_back_verbatim() {
        let v = parse("[18446744073709551615,-9223372036854775808,1.50,2e3]").unwrap();
        let a = v.as_array().unwrap();
        assert_eq!(a[0].as_u64(), Some(u64::MAX));
        assert_eq!(a[1].as_i64(), Some(i64::MIN));
        #[cfg(not(target_family = "wasm"))] // as_f64 is not built for wasm
        assert_eq!(a[2].as_f64(), Some(1.5));
        assert_eq!(a[2].as_u64(), None);
        assert_eq!(
            v.to_json_string(),
            "[18446744073709551615,-9223372036854775808,1.50,2e3]"
        );
        assert_eq!(Value::from(-7i64).to_json_string(), "-7");
        assert_eq!(Value::from(0u64).to_json_string(), "0");
    }

    #[test]
    fn strings_are_written_like_serde_json() {
        let mut all = String::new();
        for c in (0u32..0x80).chain([0xe9, 0x2028, 0x1f600]) {
            all.push(char::from_u32(c).unwrap());
        }
        let ours = Value::from(all.as_str()).to_json_string();
        assert_eq!(ours, serde_json::to_string(&all).unwrap());
        assert_eq!(parse(&ours).unwrap().as_str(), Some(all.as_str()));
    }

    #[test]
    fn objects_keep_insertion_order_and_insert_replaces() {
        let mut o = Object::new()
            .with("b", 1u64)
            .with("a", "x")
            .with_some("n", None::<u64>);
        assert_eq!(o.to_json_string(), r#"{"b":1,"a":"x"}"#);
        assert_eq!(o.insert("b", true), Some(Value::from(1u64)));
        assert_eq!(o.to_json_string(), r#"{"a":"x","b":true}"#);
        assert_eq!(o.remove("a"), Some(Value::from("x")));
        assert!(!o.contains_key("a"));
    }

    #[test]
    fn nesting_is_limited() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(parse(&deep), Err(JsonError::TooDeep));
        let deep_obj = format!("{{\"a\":{deep}}}");
        assert_eq!(parse_object_raw(&deep_obj), Err(JsonError::TooDeep));
        // Far deeper input fails the same way instead of exhausting the stack.
        assert_eq!(parse(&"[".repeat(1_000_000)), Err(JsonError::TooDeep));
    }

    #[test]
    fn raw_object_members_are_validated_but_not_decoded() {
        let text = r#" { "a" : {"x":[1,"\u00e9"]}, "b":"s\"q" , "c":null } "#;
        let members = parse_object_raw(text).unwrap();
        let keys: Vec<_> = members.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        assert_eq!(members[0].1, r#"{"x":[1,"\u00e9"]}"#);
        assert_eq!(parse(members[1].1).unwrap().as_str(), Some("s\"q"));
        assert_eq!(members[2].1, "null");
        for bad in [
            r#"{"a":[1,}"#,
            r#"{"a":"\q"}"#,
            r#"{"a":1"#,
            "[]",
            r#"{"a":1} x"#,
            r#"{"a":01}"#,
        ] {
            assert!(parse_object_raw(bad).is_err(), "{bad}");
        }
        assert!(parse_object_raw("{}").unwrap().is_empty());
    }

    #[test]
    fn typed_members_name_the_path() {
        let v = parse(r#"{"user":{"id":5,"name":null},"list":[{}]}"#).unwrap();
        let root = v.expect_object("value").unwrap();
        let user = root.req_object("user").unwrap();
        let err = user.req_str("id").unwrap_err().within("user");
        assert_eq!(err.to_string(), "'user.id' must be a string");
        assert_eq!(user.opt_str("name"), Ok(None));
        assert_eq!(user.opt_str("absent"), Ok(None));
        let err = user.req_str("displayName").unwrap_err().within("user");
        assert_eq!(
            err.to_string(),
            "required member 'user.displayName' is missing"
        );
        let first = root.req_array("list").unwrap()[0].as_object().unwrap();
        let err = first
            .req_i64("alg")
            .unwrap_err()
            .within("[0]")
            .within("list");
        assert_eq!(err.to_string(), "required member 'list[0].alg' is missing");
        assert!(matches!(
            root.req_array("user"),
            Err(JsonError::WrongType { .. })
        ));
    }

    #[test]
    fn debug_never_shows_string_contents() {
        let v = parse(r#"{"privateKey":"c2VjcmV0","n":3}"#).unwrap();
        let shown = format!("{v:?}");
        assert!(!shown.contains("c2VjcmV0"), "{shown}");
        assert!(
            shown.contains("privateKey") && shown.contains("8 bytes"),
            "{shown}"
        );
    }

    #[test]
    fn quoted_reads_as_debug_for_printable_text_and_escapes_the_rest() {
        for text in [
            "example.com",
            "https://bücher.example:8443",
            "",
            "a \"b\" \\ c",
        ] {
            assert_eq!(Quoted(text).to_string(), format!("{text:?}"));
        }
        assert_eq!(Quoted("a\nb\u{1}\t").to_string(), r#""a\nb\u0001\t""#);
        // JSON escapes only C0 controls, quote and backslash; DEL and the rest stay as they are.
        assert_eq!(Quoted("x\u{7f}").to_string(), "\"x\u{7f}\"");
    }

    #[test]
    fn objects_read_member_by_member_as_parse_reads_them() {
        let texts = [
            r#"{"a":1,"b":[true,null,{"c":"d"}],"\u0065sc\n":"x","a":2}"#,
            " { } ",
            r#"{"k":{"deep":[[[]]]}}"#,
        ];
        for text in texts {
            let mut seen = Object::new();
            parse_object_with(text, &mut |k, v| {
                seen.push(k, v);
                Ok(())
            })
            .unwrap();
            assert_eq!(Value::Object(seen), parse(text).unwrap(), "{text}");
        }
        for bad in [
            "[]",
            "1",
            r#"{"a":1"#,
            r#"{"a":1}x"#,
            r#"{"a" 1}"#,
            r#"{a:1}"#,
            "",
        ] {
            let r = parse_object_with(bad, &mut |_, _| Ok(()));
            assert!(r.is_err(), "{bad}");
        }
        let stop = parse_object_with(r#"{"a":1,"b":2}"#, &mut |k, _| {
            if k == "b" {
                Err(JsonError::Missing { member: "x".into() })
            } else {
                Ok(())
            }
        });
        assert_eq!(stop, Err(JsonError::Missing { member: "x".into() }));
    }

    /// Strings are scanned eight bytes at a time: every special byte is found at every position
    /// and alignment, next to every other byte value.
    #[test]
    fn strings_stop_at_every_special_byte_wherever_it_is() {
        for len in 0..20 {
            for at in 0..=len {
                for special in ["\\\"", "\\n", "\\u00e9"] {
                    let mut body = "a".repeat(len);
                    body.insert_str(at, special);
                    same_as_serde(&format!("\"{body}\""));
                    same_as_serde(&format!("{{\"{body}\":\"{body}\"}}"));
                }
                // A raw control character, quote or backslash, and bytes around them, anywhere.
                for b in [0x00u8, 0x01, 0x1f, b'"', b'\\'] {
                    let mut text = vec![b'"'];
                    text.extend(std::iter::repeat_n(b'x', at));
                    text.push(b);
                    text.extend(std::iter::repeat_n(b'y', len - at));
                    text.push(b'"');
                    let text = String::from_utf8(text).unwrap();
                    let ours = parse(&text).is_ok();
                    let theirs = serde_json::from_str::<serde_json::Value>(&text).is_ok();
                    assert_eq!(ours, theirs, "{text:?}");
                    let raw = format!("{{\"k\":{text}}}");
                    assert_eq!(parse_object_raw(&raw).is_ok(), theirs, "{raw:?}");
                }
            }
        }
        // Bytes 0x20..=0xff other than '"' and '\\' never stop a run (multi-byte UTF-8 included).
        let all: String = (0x20u32..0x800)
            .filter_map(char::from_u32)
            .filter(|c| *c != '"' && *c != '\\')
            .collect();
        assert_eq!(parse(&format!("\"{all}\"")).unwrap(), Value::String(all));
    }

    #[test]
    fn bytes_must_be_utf8() {
        assert!(matches!(
            parse_bytes(b"\"\xff\""),
            Err(JsonError::Syntax { .. })
        ));
        assert_eq!(parse_bytes(b"[1]").unwrap().to_json_string(), "[1]");
    }
}
