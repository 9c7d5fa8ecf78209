//! The WebAuthn client and authenticator steps, end to end:
//! [`create()`](https://www.w3.org/TR/webauthn-3/#sctn-createCredential) (§5.1.3) with
//! [authenticatorMakeCredential](https://www.w3.org/TR/webauthn-3/#sctn-op-make-cred) (§6.3.2), and
//! [`get()`](https://www.w3.org/TR/webauthn-3/#sctn-getAssertion) (§5.1.4) with
//! [authenticatorGetAssertion](https://www.w3.org/TR/webauthn-3/#sctn-op-get-assertion) (§6.3.3).
//!
//! Each ceremony is split in two so that the user is asked in between: `inspect_*` validates the
//! request and describes it for the prompt (no side effects), then `create`/`get` repeat every
//! check and act on the user's [`Consent`]. Timeouts and `AbortSignal` belong to the JS layer.
//!
//! Error mapping (all are [`WebAuthnError`]s):
//! * `TypeError`: malformed options (missing members, bad base64url, `user.id` not 1–64 bytes);
//! * `NotAllowedError`: opaque/invalid caller origin, no consent, `userVerification: "required"`
//!   without verification, no usable credential, no credential selected;
//! * `SecurityError`: not a secure context, or an RP ID the origin may not claim;
//! * `NotSupportedError`: no ES256 among `pubKeyCredParams`;
//! * `InvalidStateError`: an `excludeCredentials` entry is already here (after consent);
//! * `UnknownError`: the random source or the store failed.

use crate::authenticator::{self, flags, AttestedCredentialData, AAGUID};
use crate::b64url;
use crate::client_data::{serialize_client_data, ClientDataType};
use crate::clock::Clock;
use crate::cose::ES256;
use crate::crypto::{PrivateKey, SignatureNonce};
use crate::error::WebAuthnError;
use crate::json::{self, JsonError, Object};
use crate::options::{
    CreationOptions, PublicKeyCredentialDescriptorJSON, RequestOptions,
    UserVerificationRequirement, PUBLIC_KEY,
};
use crate::origin::Origin;
use crate::passkey::{Passkey, MAX_USER_HANDLE_LEN};
use crate::responses::{
    AuthenticationResponseJSON, AuthenticatorAssertionResponseJSON,
    AuthenticatorAttestationResponseJSON, RegistrationResponseJSON,
};
use crate::rng::Rng;
use crate::rp_id::effective_rp_id;
use crate::store::{CredentialStore, StoreWrite};
use sha2::{Digest, Sha256};

/// Who is calling, as the browser (not the page) reports it: `{"origin":…,"topOrigin":…}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerContext {
    /// `origin`: the calling frame's serialized origin.
    pub origin: String,
    /// `topOrigin`: the top-level origin when the caller is a subframe (absent or `null` for the
    /// top frame). A value different from `origin` makes the call cross-origin
    /// (`"crossOrigin":true,"topOrigin":…`); a value equal to `origin` is treated as same-origin.
    pub top_origin: Option<String>,
}

impl CallerContext {
    /// Reads the context (`origin` required; unknown members ignored).
    ///
    /// # Errors
    /// `Missing` / `WrongType` naming the member.
    pub fn from_json(value: &json::Value) -> Result<Self, JsonError> {
        let o = value.expect_object("value")?;
        Ok(Self {
            origin: o.req_str("origin")?.to_owned(),
            top_origin: o.opt_str("topOrigin")?.map(str::to_owned),
        })
    }

    /// `{"origin":…,"topOrigin":…}` (`topOrigin` is `null` when `None`).
    #[must_use]
    pub fn to_json(&self) -> Object {
        Object::with_capacity(2)
            .with("origin", &self.origin)
            .with("topOrigin", self.top_origin.as_ref())
    }
}

/// What the user did at the prompt: `{"userPresent":…,"userVerified":…}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Consent {
    /// `userPresent`: the user approved this operation ([user presence](https://www.w3.org/TR/webauthn-3/#test-of-user-presence)).
    pub user_present: bool,
    /// `userVerified`: the user was [verified](https://www.w3.org/TR/webauthn-3/#user-verification) by a real verifier.
    pub user_verified: bool,
}

impl Consent {
    /// Reads the consent: both members are required booleans (unknown members ignored).
    ///
    /// # Errors
    /// `Missing` / `WrongType` naming the member.
    pub fn from_json(value: &json::Value) -> Result<Self, JsonError> {
        let o = value.expect_object("value")?;
        Ok(Self {
            user_present: o.req_bool("userPresent")?,
            user_verified: o.req_bool("userVerified")?,
        })
    }

    /// `{"userPresent":…,"userVerified":…}`.
    #[must_use]
    pub fn to_json(&self) -> Object {
        Object::with_capacity(2)
            .with("userPresent", self.user_present)
            .with("userVerified", self.user_verified)
    }
}

/// A validated registration request, for the prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateInspection {
    /// The effective RP ID.
    pub rp_id: String,
    /// `rp.name`.
    pub rp_name: String,
    /// `user.name`.
    pub user_name: String,
    /// `user.displayName`.
    pub user_display_name: String,
    /// `user.id`, base64url.
    pub user_handle: String,
    /// A credential in `excludeCredentials` is already stored for this RP ID: `create` will fail
    /// with `InvalidStateError` (or `NotAllowedError` without consent).
    pub excluded: bool,
    /// A passkey for the same RP ID and user handle exists and will be replaced.
    pub replaces: bool,
    /// `"required"`, `"preferred"` or `"discouraged"`.
    pub user_verification: String,
}

impl CreateInspection {
    /// `{rpId, rpName, userName, userDisplayName, userHandle, excluded, replaces, userVerification}`.
    #[must_use]
    pub fn to_json(&self) -> Object {
        Object::with_capacity(8)
            .with("rpId", &self.rp_id)
            .with("rpName", &self.rp_name)
            .with("userName", &self.user_name)
            .with("userDisplayName", &self.user_display_name)
            .with("userHandle", &self.user_handle)
            .with("excluded", self.excluded)
            .with("replaces", self.replaces)
            .with("userVerification", &self.user_verification)
    }
}

/// One passkey the user may choose at a `get` prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetCandidate {
    /// Credential id, base64url.
    pub credential_id: String,
    /// `user.name` at creation.
    pub user_name: String,
    /// `user.displayName` at creation.
    pub user_display_name: String,
    /// The user's own name for the passkey, if set.
    pub label: Option<String>,
    /// User handle, base64url.
    pub user_handle: String,
    /// Creation time, ms since the epoch.
    pub created: u64,
    /// Last use, ms since the epoch.
    pub last_used: Option<u64>,
}

impl GetCandidate {
    /// `{credentialId, userName, userDisplayName, label, userHandle, created, lastUsed}` (`label`
    /// and `lastUsed` are `null` when unset).
    #[must_use]
    pub fn to_json(&self) -> Object {
        Object::with_capacity(7)
            .with("credentialId", &self.credential_id)
            .with("userName", &self.user_name)
            .with("userDisplayName", &self.user_display_name)
            .with("label", self.label.as_ref())
            .with("userHandle", &self.user_handle)
            .with("created", self.created)
            .with("lastUsed", self.last_used)
    }
}

/// A validated authentication request, for the prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetInspection {
    /// The effective RP ID.
    pub rp_id: String,
    /// `"required"`, `"preferred"` or `"discouraged"`.
    pub user_verification: String,
    /// Usable passkeys, most recently used first. May be empty (then `get` fails with
    /// `NotAllowedError`; the caller may offer another authenticator instead).
    pub candidates: Vec<GetCandidate>,
}

impl GetInspection {
    /// `{rpId, userVerification, candidates}`.
    #[must_use]
    pub fn to_json(&self) -> Object {
        Object::with_capacity(3)
            .with("rpId", &self.rp_id)
            .with("userVerification", &self.user_verification)
            .with(
                "candidates",
                json::Value::Array(
                    self.candidates
                        .iter()
                        .map(|c| json::Value::Object(c.to_json()))
                        .collect(),
                ),
            )
    }
}

/// The client + authenticator over a store, a random source and a clock.
pub struct Latchkey<S, R, C> {
    /// The passkeys.
    pub store: S,
    rng: R,
    clock: C,
    precomputed: Precomputed,
}

/// How many [`SignatureNonce`]s [`Latchkey::precompute`] keeps ready (two sign-ins in a row before
/// the idle refill still find one each).
pub const NONCE_POOL: usize = 2;

/// The scalar multiplications of the next requests, done ahead ([`Latchkey::precompute`]):
/// per-signature nonces for `get` and one key pair for `create`. Each is taken out when used, so
/// none serves twice; all are dropped (and zeroized) by [`Latchkey::clear_precomputed`].
struct Precomputed {
    /// At most [`NONCE_POOL`], in a buffer allocated once (no reallocation leaves copies behind).
    nonces: Vec<SignatureNonce>,
    /// A fresh private key with its public key already derived.
    key: Option<PrivateKey>,
}

impl Precomputed {
    fn new() -> Self {
        Self {
            nonces: Vec::with_capacity(NONCE_POOL),
            key: None,
        }
    }

    /// The last nonce, its slot zeroized before the buffer forgets it.
    fn take_nonce(&mut self) -> Option<SignatureNonce> {
        let taken = self.nonces.last_mut().map(SignatureNonce::take);
        self.nonces.pop();
        taken
    }
}

impl<S, R, C> std::fmt::Debug for Latchkey<S, R, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Latchkey").finish_non_exhaustive()
    }
}

/// Everything `create` needs, validated.
struct CreateRequest {
    origin: String,
    top_origin: Option<String>,
    rp_id: String,
    user_handle: Vec<u8>,
    challenge: Vec<u8>,
    exclude_ids: Vec<Vec<u8>>,
    user_verification: UserVerificationRequirement,
}

/// Everything `get` needs, validated.
struct GetRequest {
    origin: String,
    top_origin: Option<String>,
    rp_id: String,
    challenge: Vec<u8>,
    /// `None`: any credential of the RP ID; `Some`: only these ids.
    allow_ids: Option<Vec<Vec<u8>>>,
    user_verification: UserVerificationRequirement,
}

/// Latchkey's cap on `challenge` (bytes). The spec sets none; real challenges are 16–64 bytes, and
/// a multi-megabyte one would only be copied into clientDataJSON (docs/design.md "Hostile input").
pub const MAX_CHALLENGE_LEN: usize = 4096;
/// Latchkey keeps at most this many bytes of `rp.name`, `user.name` and `user.displayName`
/// (WebAuthn L3 §6.4.1 lets authenticators truncate them, to no fewer than 64 bytes).
pub const MAX_NAME_LEN: usize = 256;

/// `name` cut to at most [`MAX_NAME_LEN`] bytes, at a character boundary (§6.4.1 string truncation).
#[must_use]
pub fn truncate_name(name: &str) -> String {
    if name.len() <= MAX_NAME_LEN {
        return name.to_owned();
    }
    // The longest prefix that ends on a char boundary (`get`, not `str` indexing: see
    // `json::Parser::slice`).
    (0..=MAX_NAME_LEN)
        .rev()
        .find_map(|end| name.get(..end))
        .unwrap_or_default()
        .to_owned()
}

fn decode_challenge(value: &str) -> Result<Vec<u8>, WebAuthnError> {
    // A base64url string of n bytes is about 4n/3 characters: refuse before decoding it.
    if value.len() > MAX_CHALLENGE_LEN.div_ceil(3) * 4 {
        return Err(challenge_too_long());
    }
    let challenge = decode_member(value, "challenge")?;
    if challenge.len() > MAX_CHALLENGE_LEN {
        return Err(challenge_too_long());
    }
    Ok(challenge)
}

fn challenge_too_long() -> WebAuthnError {
    WebAuthnError::type_error(format!(
        "challenge is longer than Latchkey's limit of {MAX_CHALLENGE_LEN} bytes"
    ))
}

fn decode_member(value: &str, member: &str) -> Result<Vec<u8>, WebAuthnError> {
    b64url::decode(value)
        .map_err(|e| WebAuthnError::type_error(format!("{member} is not a base64url string: {e}")))
}

fn decode_descriptors(
    list: &[PublicKeyCredentialDescriptorJSON],
    member: &str,
) -> Result<Vec<Vec<u8>>, WebAuthnError> {
    list.iter()
        .filter(|d| d.type_ == PUBLIC_KEY)
        .map(|d| decode_member(&d.id, &format!("{member}[].id")))
        .collect()
}

/// Parses the caller's origin and top origin; `(origin, top_origin if cross-origin)`.
fn caller_origins(ctx: &CallerContext) -> Result<(Origin, Option<String>), WebAuthnError> {
    let origin = Origin::parse(&ctx.origin)?;
    let top = match &ctx.top_origin {
        Some(top) => {
            let top = Origin::parse(top)?;
            (top != origin).then(|| top.serialize())
        }
        None => None,
    };
    Ok((origin, top))
}

/// The RP ID a request from `ctx` naming `requested` (or none) is served for: the one
/// [`Latchkey::create`] and [`Latchkey::get`] use, so a caller can load that RP's passkeys first.
///
/// # Errors
/// The errors those calls give for the origin and the RP ID.
pub fn request_rp_id(
    ctx: &CallerContext,
    requested: Option<&str>,
) -> Result<String, WebAuthnError> {
    let (origin, _) = caller_origins(ctx)?;
    effective_rp_id(&origin, requested)
}

fn internal(context: &str, e: impl std::fmt::Display) -> WebAuthnError {
    WebAuthnError::unknown(format!("{context}: {e}"))
}

impl<S: CredentialStore, R: Rng, C: Clock> Latchkey<S, R, C> {
    /// A client over `store`, drawing keys and ids from `rng` and time from `clock`.
    pub fn new(store: S, rng: R, clock: C) -> Self {
        Self {
            store,
            rng,
            clock,
            precomputed: Precomputed::new(),
        }
    }

    /// Does the expensive part of the next requests now, while nothing waits: tops up the
    /// [`NONCE_POOL`] signature nonces `get` signs with and the key pair `create` uses (about one
    /// P-256 scalar multiplication each). Returns how many it made: 0 when all were ready, so
    /// calling it after every answer costs nothing when there is nothing to do. Requests that
    /// find the pool empty do the same work themselves, so this is only ever an optimisation.
    ///
    /// # Errors
    /// `UnknownError` when the random source fails (what is ready stays usable).
    pub fn precompute(&mut self) -> Result<usize, WebAuthnError> {
        let mut made = 0;
        while self.precomputed.nonces.len() < NONCE_POOL {
            let nonce = SignatureNonce::generate(&mut self.rng)
                .map_err(|e| internal("signature nonce", e))?;
            self.precomputed.nonces.push(nonce);
            made += 1;
        }
        if self.precomputed.key.is_none() {
            let key = PrivateKey::from_random_bytes(&mut self.rng)
                .map_err(|e| internal("key generation", e))?;
            key.derive_public_key();
            self.precomputed.key = Some(key);
            made += 1;
        }
        Ok(made)
    }

    /// Drops (and zeroizes) everything [`Latchkey::precompute`] made: on lock.
    pub fn clear_precomputed(&mut self) {
        self.precomputed = Precomputed::new();
    }

    /// How many nonces and keys are ready (tests, benchmarks).
    #[must_use]
    pub fn precomputed_len(&self) -> usize {
        self.precomputed.nonces.len() + usize::from(self.precomputed.key.is_some())
    }

    /// A new credential key: the precomputed one, or a fresh one.
    fn new_private_key(&mut self) -> Result<PrivateKey, WebAuthnError> {
        match self.precomputed.key.take() {
            Some(key) => Ok(key),
            None => PrivateKey::from_random_bytes(&mut self.rng)
                .map_err(|e| internal("key generation", e)),
        }
    }

    /// Signs with a precomputed nonce, or a fresh one; again with another in the (about 2⁻²⁵⁶)
    /// case that `s` came out zero.
    fn sign(&mut self, key: &PrivateKey, message: &[u8]) -> Result<Vec<u8>, WebAuthnError> {
        for _ in 0..8 {
            let nonce = match self.precomputed.take_nonce() {
                Some(nonce) => nonce,
                None => SignatureNonce::generate(&mut self.rng)
                    .map_err(|e| internal("signature nonce", e))?,
            };
            if let Some(signature) = key.sign_with_nonce(message, nonce) {
                return Ok(signature);
            }
        }
        Err(WebAuthnError::unknown("no usable signature nonce"))
    }

    /// The random source (the vault draws its keys and nonces from the same one).
    pub fn rng_mut(&mut self) -> &mut R {
        &mut self.rng
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Gives the store back.
    pub fn into_store(self) -> S {
        self.store
    }

    fn prepare_create(
        &self,
        ctx: &CallerContext,
        opts: &CreationOptions,
    ) -> Result<CreateRequest, WebAuthnError> {
        // §5.1.3 step "If pkOptions.user.id's length is not between 1 and 64 bytes": TypeError.
        let user_handle = decode_member(&opts.user.id, "user.id")?;
        if user_handle.is_empty() || user_handle.len() > MAX_USER_HANDLE_LEN {
            return Err(WebAuthnError::type_error(format!(
                "user.id must be between 1 and 64 bytes, not {}",
                user_handle.len()
            )));
        }
        let challenge = decode_challenge(&opts.challenge)?;
        let exclude_ids = decode_descriptors(&opts.exclude_credentials, "excludeCredentials")?;
        // Opaque origin: NotAllowedError. Secure context and RP ID: SecurityError.
        let (origin, top_origin) = caller_origins(ctx)?;
        let rp_id = effective_rp_id(&origin, opts.rp.id.as_deref())?;
        // credTypesAndPubKeyAlgs: an empty list means ES256 and RS256; otherwise only
        // "public-key" entries count, and this authenticator supports ES256 alone.
        let es256_acceptable = opts.pub_key_cred_params.is_empty()
            || opts
                .pub_key_cred_params
                .iter()
                .any(|p| p.type_ == PUBLIC_KEY && p.alg == ES256);
        if !es256_acceptable {
            return Err(WebAuthnError::not_supported(
                "none of the requested algorithms is supported (this authenticator supports ES256, -7)",
            ));
        }
        Ok(CreateRequest {
            origin: origin.serialize(),
            top_origin,
            rp_id,
            user_handle,
            challenge,
            exclude_ids,
            user_verification: opts.user_verification(),
        })
    }

    fn is_excluded(&self, req: &CreateRequest) -> bool {
        req.exclude_ids
            .iter()
            .any(|id| self.store.get(id).is_some_and(|p| p.rp_id == req.rp_id))
    }

    fn same_account(&self, rp_id: &str, user_handle: &[u8]) -> Vec<Vec<u8>> {
        self.store
            .find_by_rp_id(rp_id)
            .into_iter()
            .filter(|p| p.user_handle == user_handle)
            .map(|p| p.credential_id.clone())
            .collect()
    }

    /// Validates a registration request and describes it for the prompt. No side effects.
    ///
    /// # Errors
    /// See the [module documentation](self); never `InvalidStateError` (reported as `excluded`).
    pub fn inspect_create(
        &self,
        ctx: &CallerContext,
        opts: &CreationOptions,
    ) -> Result<CreateInspection, WebAuthnError> {
        let req = self.prepare_create(ctx, opts)?;
        Ok(CreateInspection {
            excluded: self.is_excluded(&req),
            replaces: !self.same_account(&req.rp_id, &req.user_handle).is_empty(),
            user_verification: req.user_verification.as_str().to_owned(),
            user_handle: b64url::encode(&req.user_handle),
            rp_id: req.rp_id,
            rp_name: truncate_name(&opts.rp.name),
            user_name: truncate_name(&opts.user.name),
            user_display_name: truncate_name(&opts.user.display_name),
        })
    }

    /// Creates a passkey (a discoverable ES256 credential with `none` attestation), stores it
    /// (replacing a passkey of the same RP ID and user handle) and returns the response with the
    /// storage journal: the new record first, then deletes of replaced records.
    ///
    /// # Errors
    /// See the [module documentation](self). Nothing is stored on error.
    pub fn create(
        &mut self,
        ctx: &CallerContext,
        opts: &CreationOptions,
        consent: Consent,
    ) -> Result<(RegistrationResponseJSON, Vec<StoreWrite>), WebAuthnError> {
        let req = self.prepare_create(ctx, opts)?;
        // §6.3.2 step 3: an excluded credential needs consent to be revealed.
        if self.is_excluded(&req) {
            return Err(if consent.user_present {
                WebAuthnError::invalid_state(
                    "a credential in excludeCredentials is already registered with Latchkey",
                )
            } else {
                WebAuthnError::not_allowed("the user did not consent")
            });
        }
        if !consent.user_present {
            return Err(WebAuthnError::not_allowed("the user did not consent"));
        }
        if req.user_verification == UserVerificationRequirement::Required && !consent.user_verified
        {
            return Err(WebAuthnError::not_allowed(
                "user verification was required but not performed",
            ));
        }

        let private_key = self.new_private_key()?;
        let mut credential_id =
            authenticator::new_credential_id(&mut self.rng).map_err(|e| internal("random", e))?;
        for _ in 0..8 {
            if self.store.get(&credential_id).is_none() {
                break;
            }
            credential_id = authenticator::new_credential_id(&mut self.rng)
                .map_err(|e| internal("random", e))?;
        }
        if self.store.get(&credential_id).is_some() {
            return Err(WebAuthnError::unknown(
                "could not draw an unused credential id",
            ));
        }

        let cose_key = private_key.cose_key();
        let mut auth_flags = flags::UP | flags::BE;
        if consent.user_verified {
            auth_flags |= flags::UV;
        }
        let attested = AttestedCredentialData {
            aaguid: AAGUID,
            credential_id: &credential_id,
            public_key: &cose_key,
        };
        let auth_data =
            authenticator::authenticator_data(&req.rp_id, auth_flags, 0, Some(&attested))
                .map_err(|e| internal("authenticator data", e))?;
        let attestation_object = authenticator::attestation_object_none(&auth_data);
        let client_data_json = serialize_client_data(
            ClientDataType::Create,
            &b64url::encode(&req.challenge),
            &req.origin,
            req.top_origin.as_deref(),
        );

        let mut client_extension_results = Object::new();
        if opts.cred_props_requested() {
            // credProps output: the credential is always discoverable.
            client_extension_results.insert("credProps", Object::new().with("rk", true));
        }
        let id = b64url::encode(&credential_id);
        let response = RegistrationResponseJSON {
            id: id.clone(),
            raw_id: id,
            response: AuthenticatorAttestationResponseJSON {
                client_data_json: b64url::encode(client_data_json.as_bytes()),
                authenticator_data: b64url::encode(&auth_data),
                transports: vec!["internal".into()],
                public_key: b64url::encode(&private_key.public_key_spki_der()),
                public_key_algorithm: ES256,
                attestation_object: b64url::encode(&attestation_object),
            },
            authenticator_attachment: "platform".into(),
            client_extension_results,
            type_: PUBLIC_KEY.into(),
        };

        let replaced = self.same_account(&req.rp_id, &req.user_handle);
        let passkey = Passkey {
            credential_id: credential_id.to_vec(),
            rp_id: req.rp_id,
            rp_name: truncate_name(&opts.rp.name),
            user_handle: req.user_handle,
            user_name: truncate_name(&opts.user.name),
            user_display_name: truncate_name(&opts.user.display_name),
            label: None,
            private_key,
            alg: ES256,
            created_ms: self.clock.now_ms(),
            last_used_ms: None,
            sign_count: 0,
        };
        let mut writes = vec![StoreWrite::put(&passkey)];
        self.store
            .put(passkey)
            .map_err(|e| internal("storing the passkey", e))?;
        for old in replaced {
            self.store
                .remove(&old)
                .map_err(|e| internal("replacing the old passkey", e))?;
            writes.push(StoreWrite::delete(&old));
        }
        Ok((response, writes))
    }

    fn prepare_get(
        &self,
        ctx: &CallerContext,
        opts: &RequestOptions,
    ) -> Result<GetRequest, WebAuthnError> {
        let challenge = decode_challenge(&opts.challenge)?;
        let allow_ids = if opts.allow_credentials.is_empty() {
            None
        } else {
            Some(decode_descriptors(
                &opts.allow_credentials,
                "allowCredentials",
            )?)
        };
        let (origin, top_origin) = caller_origins(ctx)?;
        let rp_id = effective_rp_id(&origin, opts.rp_id.as_deref())?;
        Ok(GetRequest {
            origin: origin.serialize(),
            top_origin,
            rp_id,
            challenge,
            allow_ids,
            user_verification: opts.user_verification(),
        })
    }

    /// Usable passkeys, most recently used (or created) first.
    fn candidates(&self, req: &GetRequest) -> Vec<&Passkey> {
        let mut found: Vec<&Passkey> = match &req.allow_ids {
            None => self.store.find_by_rp_id(&req.rp_id),
            // An allow list names its credentials: each is looked up by id (O(log n)) rather
            // than filtering every passkey of the RP ID against the list. A listed id counts once
            // however often it is listed.
            Some(ids) => {
                let mut found: Vec<&Passkey> = Vec::new();
                for p in ids.iter().filter_map(|id| self.store.get(id)) {
                    if p.rp_id == req.rp_id
                        && !found.iter().any(|q| q.credential_id == p.credential_id)
                    {
                        found.push(p);
                    }
                }
                found
            }
        };
        // The shared sort: one copy of the standard sort in the wasm (crate::sort).
        crate::sort::sort_by(&mut found, |a, b| {
            let recency = |p: &Passkey| p.last_used_ms.unwrap_or(p.created_ms).max(p.created_ms);
            recency(b)
                .cmp(&recency(a))
                .then_with(|| a.credential_id.cmp(&b.credential_id))
        });
        found
    }

    /// Validates an authentication request and lists the usable passkeys. No side effects.
    ///
    /// # Errors
    /// `TypeError`, `NotAllowedError` (origin) or `SecurityError`; an empty candidate list is not
    /// an error here.
    pub fn inspect_get(
        &self,
        ctx: &CallerContext,
        opts: &RequestOptions,
    ) -> Result<GetInspection, WebAuthnError> {
        let req = self.prepare_get(ctx, opts)?;
        let candidates = self
            .candidates(&req)
            .into_iter()
            .map(|p| GetCandidate {
                credential_id: b64url::encode(&p.credential_id),
                user_name: p.user_name.clone(),
                user_display_name: p.user_display_name.clone(),
                label: p.label.clone(),
                user_handle: b64url::encode(&p.user_handle),
                created: p.created_ms,
                last_used: p.last_used_ms,
            })
            .collect();
        Ok(GetInspection {
            rp_id: req.rp_id,
            user_verification: req.user_verification.as_str().to_owned(),
            candidates,
        })
    }

    /// Signs an assertion with the selected passkey (or the only candidate when
    /// `selected_credential_id` is `None`), records its use, and returns the response with the
    /// storage journal (the updated record).
    ///
    /// # Errors
    /// See the [module documentation](self). Nothing changes on error.
    pub fn get(
        &mut self,
        ctx: &CallerContext,
        opts: &RequestOptions,
        selected_credential_id: Option<&[u8]>,
        consent: Consent,
    ) -> Result<(AuthenticationResponseJSON, Vec<StoreWrite>), WebAuthnError> {
        let (response, credential_id) =
            self.get_deferred(ctx, opts, selected_credential_id, consent)?;
        let writes = self
            .store
            .get(&credential_id)
            .map(StoreWrite::put)
            .into_iter()
            .collect();
        Ok((response, writes))
    }

    /// [`Latchkey::get`] without the journal: the use is recorded in the store, and the id of the
    /// passkey whose record changed (its `lastUsed`) is returned instead of the record itself, for
    /// a caller that writes it later from the store (the wasm session's deferred metadata). Saves
    /// serializing the record (and, on a passkey's first use, deriving its public key for the
    /// PKCS#8 document) during the request.
    ///
    /// # Errors
    /// As [`Latchkey::get`]. Nothing changes on error.
    pub fn get_deferred(
        &mut self,
        ctx: &CallerContext,
        opts: &RequestOptions,
        selected_credential_id: Option<&[u8]>,
        consent: Consent,
    ) -> Result<(AuthenticationResponseJSON, Vec<u8>), WebAuthnError> {
        let req = self.prepare_get(ctx, opts)?;
        let candidates = self.candidates(&req);
        if candidates.is_empty() {
            return Err(WebAuthnError::not_allowed(
                "no passkey for this site is available",
            ));
        }
        let chosen = match selected_credential_id {
            Some(id) => candidates.into_iter().find(|p| p.credential_id == id),
            None if candidates.len() == 1 => candidates.into_iter().next(),
            None => return Err(WebAuthnError::not_allowed("no credential selected")),
        };
        let mut passkey = chosen
            .ok_or_else(|| {
                WebAuthnError::not_allowed(
                    "the selected credential is not available for this request",
                )
            })?
            .clone();
        if !consent.user_present {
            return Err(WebAuthnError::not_allowed("the user did not consent"));
        }
        if req.user_verification == UserVerificationRequirement::Required && !consent.user_verified
        {
            return Err(WebAuthnError::not_allowed(
                "user verification was required but not performed",
            ));
        }

        let mut auth_flags = flags::UP | flags::BE;
        if consent.user_verified {
            auth_flags |= flags::UV;
        }
        let auth_data =
            authenticator::authenticator_data(&req.rp_id, auth_flags, passkey.sign_count, None)
                .map_err(|e| internal("authenticator data", e))?;
        let client_data_json = serialize_client_data(
            ClientDataType::Get,
            &b64url::encode(&req.challenge),
            &req.origin,
            req.top_origin.as_deref(),
        );
        let mut message = Vec::with_capacity(auth_data.len() + 32);
        message.extend_from_slice(&auth_data);
        message.extend_from_slice(&Sha256::digest(client_data_json.as_bytes()));
        let signature = self.sign(&passkey.private_key, &message)?;

        let id = b64url::encode(&passkey.credential_id);
        let response = AuthenticationResponseJSON {
            id: id.clone(),
            raw_id: id,
            response: AuthenticatorAssertionResponseJSON {
                client_data_json: b64url::encode(client_data_json.as_bytes()),
                authenticator_data: b64url::encode(&auth_data),
                signature: b64url::encode(&signature),
                user_handle: Some(b64url::encode(&passkey.user_handle)),
            },
            authenticator_attachment: "platform".into(),
            client_extension_results: Object::new(),
            type_: PUBLIC_KEY.into(),
        };

        passkey.last_used_ms = Some(self.clock.now_ms());
        let credential_id = passkey.credential_id.clone();
        self.store
            .put(passkey)
            .map_err(|e| internal("recording the passkey's use", e))?;
        Ok((response, credential_id))
    }
}

#[cfg(test)]
mod tests;
