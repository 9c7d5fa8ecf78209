// Latchkey page shim: MAIN world, document_start, every frame (a classic script, no imports).
//
// Replaces CredentialsContainer.prototype.create/get. Modal `publicKey` requests go to Latchkey
// (shim → window.postMessage → relay.js → service worker); everything else goes to the browser's
// own implementation, saved here before any page script runs. See docs/design.md.
//
// Everything this file uses after load was captured at load: pages may later replace built-ins
// (Prototype.js-style Array.prototype.toJSON, patched postMessage, getters on MessageEvent…) and
// that must not change what the shim does. Objects handed to the page are built with object
// literals or Object.defineProperty, never by assignment (setters on Object.prototype never run).
(() => {
  "use strict";

  const CC = typeof CredentialsContainer === "function" ? CredentialsContainer : undefined;
  // Insecure contexts have no navigator.credentials and no PublicKeyCredential: nothing to do.
  if (!CC || typeof PublicKeyCredential !== "function" || !navigator.credentials) return;

  // ---- captured built-ins ---------------------------------------------------------------------
  const win = window;
  const container = navigator.credentials;
  const CCProto = CC.prototype;
  const origCreate = CCProto.create;
  const origGet = CCProto.get;
  if (typeof origCreate !== "function" || typeof origGet !== "function") return;

  const O = Object;
  const apply = Reflect.apply;
  const ownKeys = Reflect.ownKeys;
  const defineProperty = O.defineProperty;
  const getOwnPropertyDescriptor = O.getOwnPropertyDescriptor;
  const getPrototypeOf = O.getPrototypeOf;
  const objectCreate = O.create;
  const objectKeys = O.keys;
  const isArray = Array.isArray;
  const floor = Math.floor;
  const arrayFrom = Array.from;
  const PromiseCtor = Promise;
  const DOMExceptionCtor = DOMException;
  const TypeErrorCtor = TypeError;
  const Uint8ArrayCtor = Uint8Array;
  const isView = ArrayBuffer.isView;
  const WeakMapCtor = WeakMap;
  const weakMapGet = WeakMap.prototype.get;
  const weakMapSet = WeakMap.prototype.set;
  const charCodeAt = String.prototype.charCodeAt;
  // `charCodeAt` as a plain function (s, i): bound once, here, to the captured built-ins; no
  // argument array per character as with Reflect.apply.
  const codeAt = Function.prototype.call.bind(charCodeAt);
  const toWellFormed = String.prototype.toWellFormed; // undefined in older browsers
  const symbolIterator = Symbol.iterator;
  const fnToString = Function.prototype.toString;
  const postMessage = win.postMessage;
  const setTimeoutFn = win.setTimeout;
  const clearTimeoutFn = win.clearTimeout;
  const addEventListener = EventTarget.prototype.addEventListener;
  const removeEventListener = EventTarget.prototype.removeEventListener;
  const stopImmediatePropagation = Event.prototype.stopImmediatePropagation;
  const cryptoObj = win.crypto;
  const getRandomValues = Crypto.prototype.getRandomValues;
  const location = win.location; // [LegacyUnforgeable]: pages cannot replace it

  const getter = (proto, name) => {
    const d = proto && getOwnPropertyDescriptor(proto, name);
    return d && d.get;
  };
  const TypedArrayProto = getPrototypeOf(Uint8Array.prototype);
  const abByteLength = getter(ArrayBuffer.prototype, "byteLength");
  const abResizable = getter(ArrayBuffer.prototype, "resizable"); // undefined in older browsers
  const taBuffer = getter(TypedArrayProto, "buffer");
  const taByteOffset = getter(TypedArrayProto, "byteOffset");
  const taByteLength = getter(TypedArrayProto, "byteLength");
  const dvBuffer = getter(DataView.prototype, "buffer");
  const dvByteOffset = getter(DataView.prototype, "byteOffset");
  const dvByteLength = getter(DataView.prototype, "byteLength");
  const msgData = getter(MessageEvent.prototype, "data");
  const msgSource = getter(MessageEvent.prototype, "source");
  const signalAborted = getter(AbortSignal.prototype, "aborted");
  const signalReason = getter(AbortSignal.prototype, "reason"); // undefined before reason existed
  const originGetter = getter(getPrototypeOf(location), "origin") || null;

  const PKCProto = PublicKeyCredential.prototype;
  const CredentialProto = getPrototypeOf(PKCProto); // Credential.prototype: id, type
  const ResponseProto =
    typeof AuthenticatorResponse === "function" ? AuthenticatorResponse.prototype : O.prototype; // clientDataJSON
  const AttestationProto =
    typeof AuthenticatorAttestationResponse === "function" ? AuthenticatorAttestationResponse.prototype : O.prototype;
  const AssertionProto =
    typeof AuthenticatorAssertionResponse === "function" ? AuthenticatorAssertionResponse.prototype : O.prototype;

  // ---- native-looking functions -----------------------------------------------------------------
  // Our replacements report the native source text of the function they stand in for.
  const disguises = new WeakMapCtor();
  // A native function's source text, read once (every credential disguises the same few natives).
  const nativeSources = new WeakMapCtor();
  const disguise = (fake, real) => {
    if (typeof real === "function") {
      try {
        let source = apply(weakMapGet, nativeSources, [real]);
        if (source === undefined) {
          source = apply(fnToString, real, []);
          apply(weakMapSet, nativeSources, [real, source]);
        }
        apply(weakMapSet, disguises, [fake, source]);
      } catch {
        // a real function whose source cannot be read: leave ours as it is
      }
    }
    return fake;
  };
  const toStringReplacement = {
    toString() {
      const fake = apply(weakMapGet, disguises, [this]);
      return fake !== undefined ? fake : apply(fnToString, this, arguments);
    },
  }.toString;
  disguise(toStringReplacement, fnToString);

  const nativeMember = (proto, name) => {
    const d = proto && getOwnPropertyDescriptor(proto, name);
    return d ? d.value || d.get : undefined;
  };

  // ---- small helpers ----------------------------------------------------------------------------
  const typeError = (message) => new TypeErrorCtor(message);
  const domError = (message, name) => new DOMExceptionCtor(message, name);
  const isObject = (v) => (typeof v === "object" && v !== null) || typeof v === "function";
  const define = (obj, key, value) =>
    defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  const hasOwn = (obj, key) => getOwnPropertyDescriptor(obj, key) !== undefined;
  /** An own data property's value (never a prototype's, never a getter's). */
  const own = (obj, key) => {
    const d = obj !== null && typeof obj === "object" ? getOwnPropertyDescriptor(obj, key) : undefined;
    return d ? d.value : undefined;
  };

  // ---- base64url (hand-written: no atob/btoa, no string methods a page could patch) ------------
  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const B64_DECODE = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) B64_DECODE[apply(charCodeAt, B64, [i])] = i;
  // Standard base64 is accepted too when decoding ('+' '/'), padding is ignored.
  B64_DECODE[43] = 62;
  B64_DECODE[47] = 63;

  /** @param {Uint8Array} u8 */
  const encodeB64url = (u8) => {
    let out = "";
    const n = u8.length;
    let i = 0;
    for (; i + 2 < n; i += 3) {
      const v = (u8[i] << 16) | (u8[i + 1] << 8) | u8[i + 2];
      out += B64[v >> 18] + B64[(v >> 12) & 63] + B64[(v >> 6) & 63] + B64[v & 63];
    }
    if (n - i === 1) {
      const v = u8[i] << 16;
      out += B64[v >> 18] + B64[(v >> 12) & 63];
    } else if (n - i === 2) {
      const v = (u8[i] << 16) | (u8[i + 1] << 8);
      out += B64[v >> 18] + B64[(v >> 12) & 63] + B64[(v >> 6) & 63];
    }
    return out;
  };

  /** @param {string} s  @returns {ArrayBuffer} a fresh buffer */
  const decodeB64url = (s) => {
    if (typeof s !== "string") throw typeError("not a base64url string");
    let len = s.length;
    while (len > 0 && codeAt(s, len - 1) === 61 /* = */) len--;
    if (len % 4 === 1) throw typeError("invalid base64url length");
    const bytes = new Uint8ArrayCtor((len * 3) >> 2);
    let acc = 0;
    let bits = 0;
    let j = 0;
    for (let i = 0; i < len; i++) {
      const c = codeAt(s, i);
      const v = c < 128 ? B64_DECODE[c] : -1;
      if (v < 0) throw typeError("invalid base64url character");
      acc = ((acc << 6) | v) & 0xffffff;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        bytes[j++] = (acc >> bits) & 0xff;
      }
    }
    return apply(taBuffer, bytes, []);
  };

  const copyBuffer = (buf) => {
    const src = new Uint8ArrayCtor(buf);
    const dst = new Uint8ArrayCtor(src.length);
    for (let i = 0; i < src.length; i++) dst[i] = src[i];
    return apply(taBuffer, dst, []);
  };

  // ---- WebIDL-style conversion of the page's options to the L3 JSON form -----------------------
  const isArrayBuffer = (v) => {
    try {
      apply(abByteLength, v, []);
      return true;
    } catch {
      return false; // not an ArrayBuffer (SharedArrayBuffer included, as WebIDL's BufferSource)
    }
  };
  const isResizable = (buf) => {
    try {
      return abResizable ? apply(abResizable, buf, []) === true : false;
    } catch {
      return false;
    }
  };

  /** BufferSource → base64url. Anything else is a TypeError, as the browser's WebIDL layer would throw. */
  const bufferSource = (v, what) => {
    let buffer;
    let offset = 0;
    let length;
    // Views first: isView never throws, and the usual challenge/id is a Uint8Array (isArrayBuffer
    // would throw and catch for it, which costs a stack trace each time).
    if (isView(v)) {
      try {
        buffer = apply(taBuffer, v, []);
        offset = apply(taByteOffset, v, []);
        length = apply(taByteLength, v, []);
      } catch {
        buffer = apply(dvBuffer, v, []); // a DataView
        offset = apply(dvByteOffset, v, []);
        length = apply(dvByteLength, v, []);
      }
      if (!isArrayBuffer(buffer)) {
        throw typeError(`Failed to read '${what}': a view on a SharedArrayBuffer is not allowed.`);
      }
    } else if (isArrayBuffer(v)) {
      buffer = v;
      length = apply(abByteLength, v, []);
    } else {
      throw typeError(`Failed to read '${what}': the provided value is not of type '(ArrayBuffer or ArrayBufferView)'.`);
    }
    if (isResizable(buffer)) {
      throw typeError(`Failed to read '${what}': a resizable ArrayBuffer is not allowed.`);
    }
    return encodeB64url(new Uint8ArrayCtor(buffer, offset, length));
  };

  const str = (v) => {
    const s = `${v}`; // ToString: throws a TypeError for symbols, like WebIDL
    return toWellFormed ? apply(toWellFormed, s, []) : s;
  };
  const int32 = (v, unsigned) => {
    let n = +v; // ToNumber: throws for symbols and BigInts, like WebIDL
    if (n !== n || n === Infinity || n === -Infinity) return 0;
    n = n < 0 ? -floor(-n) : floor(n);
    n %= 4294967296;
    if (n < 0) n += 4294967296;
    return unsigned ? n : n >= 2147483648 ? n - 4294967296 : n;
  };
  /** A dictionary: undefined → absent; null → {}; non-objects → TypeError. */
  const dict = (v, what) => {
    if (v === undefined || v === null) return null;
    if (!isObject(v)) throw typeError(`Failed to read '${what}': the provided value is not of type 'object'.`);
    return v;
  };
  /** A sequence: anything iterable (non-objects and non-iterables → TypeError). */
  const seq = (v, what, convert) => {
    if (!isObject(v) || v[symbolIterator] === undefined || v[symbolIterator] === null) {
      throw typeError(`Failed to read '${what}': the provided value cannot be converted to a sequence.`);
    }
    const items = arrayFrom(v);
    const out = [];
    for (let i = 0; i < items.length; i++) define(out, i, convert(items[i], `${what}[${i}]`));
    return out;
  };
  /** A record<DOMString, T>: own enumerable string keys. */
  const record = (v, what, convert) => {
    if (!isObject(v)) throw typeError(`Failed to read '${what}': the provided value is not of type 'object'.`);
    const out = {};
    const keys = ownKeys(v);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (typeof k !== "string") continue;
      const d = getOwnPropertyDescriptor(v, k);
      if (d && d.enumerable) define(out, str(k), convert(v[k], `${what}.${k}`));
    }
    return out;
  };

  /**
   * Copies dictionary members that are present (not undefined), converting each.
   * @param {object} src  @param {object} out  @param {string} what
   * @param {Array<[string, (v: any, what: string) => any]>} members
   */
  const members = (src, out, what, list) => {
    for (let i = 0; i < list.length; i++) {
      const name = list[i][0];
      const v = src[name];
      if (v !== undefined) define(out, name, list[i][1](v, `${what}.${name}`));
    }
    return out;
  };
  const dictOf = (list) => (v, what) => {
    const d = dict(v, what);
    return d === null ? {} : members(d, {}, what, list);
  };
  const seqOf = (convert) => (v, what) => seq(v, what, convert);
  const asStr = (v) => str(v);
  const asBool = (v) => !!v;
  const asLong = (v) => int32(v, false);
  const asULong = (v) => int32(v, true);

  const descriptor = dictOf([
    ["id", bufferSource],
    ["transports", seqOf(asStr)],
    ["type", asStr],
  ]);
  const prfValues = dictOf([
    ["first", bufferSource],
    ["second", bufferSource],
  ]);
  // The extensions Latchkey knows how to carry. Unknown extensions are dropped, as the browser's
  // own dictionary conversion drops them.
  const extensionMembers = [
    ["appid", asStr],
    ["appidExclude", asStr],
    ["credBlob", bufferSource],
    ["credProps", asBool],
    ["credentialProtectionPolicy", asStr],
    ["enforceCredentialProtectionPolicy", asBool],
    ["getCredBlob", asBool],
    [
      "largeBlob",
      dictOf([
        ["read", asBool],
        ["support", asStr],
        ["write", bufferSource],
      ]),
    ],
    ["minPinLength", asBool],
    [
      "prf",
      dictOf([
        ["eval", prfValues],
        ["evalByCredential", (v, what) => record(v, what, prfValues)],
      ]),
    ],
  ];
  const extensions = dictOf(extensionMembers);

  const creationOptions = dictOf([
    ["attestation", asStr],
    ["attestationFormats", seqOf(asStr)],
    [
      "authenticatorSelection",
      dictOf([
        ["authenticatorAttachment", asStr],
        ["requireResidentKey", asBool],
        ["residentKey", asStr],
        ["userVerification", asStr],
      ]),
    ],
    ["challenge", bufferSource],
    ["excludeCredentials", seqOf(descriptor)],
    ["extensions", extensions],
    ["hints", seqOf(asStr)],
    [
      "pubKeyCredParams",
      seqOf(
        dictOf([
          ["alg", asLong],
          ["type", asStr],
        ]),
      ),
    ],
    [
      "rp",
      dictOf([
        ["id", asStr],
        ["name", asStr],
      ]),
    ],
    ["timeout", asULong],
    [
      "user",
      dictOf([
        ["displayName", asStr],
        ["id", bufferSource],
        ["name", asStr],
      ]),
    ],
  ]);
  const requestOptions = dictOf([
    ["allowCredentials", seqOf(descriptor)],
    ["challenge", bufferSource],
    ["extensions", extensions],
    ["hints", seqOf(asStr)],
    ["rpId", asStr],
    ["timeout", asULong],
    ["userVerification", asStr],
  ]);

  // ---- the credential object handed to the page -------------------------------------------------
  /** A deep copy of JSON data, made with define (no setters, no toJSON hooks). */
  const copyJson = (v) => {
    if (v === null || typeof v !== "object") return v;
    if (isArray(v)) {
      const out = [];
      for (let i = 0; i < v.length; i++) define(out, i, copyJson(v[i]));
      return out;
    }
    const out = {};
    const keys = objectKeys(v);
    for (let i = 0; i < keys.length; i++) define(out, keys[i], copyJson(v[keys[i]]));
    return out;
  };

  /**
   * An own, enumerable, read-only accessor (WebIDL attributes are enumerable accessors; for…in
   * based serializers rely on that). `proto` holds the native attribute it stands in for.
   */
  const constant = (obj, name, value, proto) => {
    const get = getter({ get [name]() { return value; } }, name); // named "get <name>"
    disguise(get, nativeMember(proto, name));
    defineProperty(obj, name, { get, enumerable: true, configurable: true });
  };
  /** An own, enumerable method from a one-method object literal (non-constructible, native-like name). */
  const method = (obj, proto, literal) => {
    const name = objectKeys(literal)[0];
    const fn = literal[name];
    disguise(fn, nativeMember(proto, name));
    defineProperty(obj, name, { value: fn, writable: true, enumerable: true, configurable: true });
  };

  const requireString = (v, what) => {
    if (typeof v !== "string") throw typeError(`the authenticator's response has no ${what}`);
    return v;
  };
  const optionalBuffer = (v) => (typeof v === "string" ? decodeB64url(v) : null);

  /** getClientExtensionResults(): the JSON results with binary members as fresh ArrayBuffers. */
  const extensionResults = (json) => {
    const out = {};
    if (!json || typeof json !== "object") return out;
    const keys = objectKeys(json);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      const v = copyJson(json[k]);
      if (k === "prf" && v && typeof v === "object" && v.results && typeof v.results === "object") {
        const r = {};
        if (typeof v.results.first === "string") define(r, "first", decodeB64url(v.results.first));
        if (typeof v.results.second === "string") define(r, "second", decodeB64url(v.results.second));
        define(v, "results", r);
      } else if (k === "largeBlob" && v && typeof v === "object" && typeof v.blob === "string") {
        define(v, "blob", decodeB64url(v.blob));
      } else if ((k === "credBlob" || k === "getCredBlob") && typeof v === "string") {
        define(out, k, decodeB64url(v));
        continue;
      }
      define(out, k, v);
    }
    return out;
  };

  const buildCredential = (kind, json) => {
    if (!json || typeof json !== "object" || !json.response || typeof json.response !== "object") {
      throw typeError("the authenticator's response is malformed");
    }
    const r = json.response;
    const id = requireString(json.id, "id");
    const rawId = decodeB64url(requireString(json.rawId, "rawId"));
    const type = typeof json.type === "string" ? json.type : "public-key";
    const attachment = typeof json.authenticatorAttachment === "string" ? json.authenticatorAttachment : null;
    const clientDataJSON = decodeB64url(requireString(r.clientDataJSON, "clientDataJSON"));
    const snapshot = copyJson(json); // what toJSON() copies from; later edits by the page don't reach it

    let response;
    if (kind === "create") {
      const attestationObject = decodeB64url(requireString(r.attestationObject, "attestationObject"));
      const authenticatorData = decodeB64url(requireString(r.authenticatorData, "authenticatorData"));
      const publicKey = optionalBuffer(r.publicKey);
      const alg = typeof r.publicKeyAlgorithm === "number" ? r.publicKeyAlgorithm : -7;
      const transports = isArray(r.transports) ? copyJson(r.transports) : [];
      const P = AttestationProto;
      response = objectCreate(P);
      constant(response, "clientDataJSON", clientDataJSON, ResponseProto);
      constant(response, "attestationObject", attestationObject, P);
      method(response, P, {
        getTransports() {
          return copyJson(transports);
        },
      });
      method(response, P, {
        getAuthenticatorData() {
          return copyBuffer(authenticatorData);
        },
      });
      method(response, P, {
        getPublicKey() {
          return publicKey === null ? null : copyBuffer(publicKey);
        },
      });
      method(response, P, {
        getPublicKeyAlgorithm() {
          return alg;
        },
      });
    } else {
      const authenticatorData = decodeB64url(requireString(r.authenticatorData, "authenticatorData"));
      const signature = decodeB64url(requireString(r.signature, "signature"));
      const userHandle = optionalBuffer(r.userHandle);
      const P = AssertionProto;
      response = objectCreate(P);
      constant(response, "clientDataJSON", clientDataJSON, ResponseProto);
      constant(response, "authenticatorData", authenticatorData, P);
      constant(response, "signature", signature, P);
      constant(response, "userHandle", userHandle, P);
      // L3 lets assertions carry an attestation; Latchkey never returns one.
      constant(response, "attestationObject", null, P);
    }

    const cred = objectCreate(PKCProto);
    constant(cred, "id", id, CredentialProto);
    constant(cred, "type", type, CredentialProto);
    constant(cred, "rawId", rawId, PKCProto);
    constant(cred, "response", response, PKCProto);
    constant(cred, "authenticatorAttachment", attachment, PKCProto);
    method(cred, PKCProto, {
      getClientExtensionResults() {
        return extensionResults(snapshot.clientExtensionResults);
      },
    });
    method(cred, PKCProto, {
      toJSON() {
        return copyJson(snapshot);
      },
    });
    return cred;
  };

  const makeError = (e) => {
    const name = e && typeof e.name === "string" ? e.name : "UnknownError";
    const message = e && typeof e.message === "string" ? e.message : "The operation failed.";
    return name === "TypeError" ? typeError(message) : domError(message, name);
  };

  // ---- the channel to relay.js ------------------------------------------------------------------
  /** Pending requests by id (a null-prototype object: no Map methods a page could patch). */
  const pending = objectCreate(null);
  // If no relay acknowledges a request (the isolated content script was not injected into this
  // frame), the browser handles the request instead of leaving the page waiting forever.
  const ACK_TIMEOUT_MS = 2000;
  // Once the relay acknowledged any request in this frame it is known to be there: a later ack
  // that is merely slow (a page flooding it with thousands of requests) is no reason to hand the
  // request to the browser — the relay answers every request it got (docs/design.md "Hostile input").
  let relaySeen = false;

  const targetOrigin = () => {
    let origin = "null";
    try {
      origin = originGetter ? apply(originGetter, location, []) : location.origin;
    } catch {
      // keep "null"
    }
    return origin && origin !== "null" ? origin : "*";
  };
  const post = (msg) => apply(postMessage, win, [msg, targetOrigin()]);

  const HEX = "0123456789abcdef";
  const newId = () => {
    const b = new Uint8ArrayCtor(16);
    apply(getRandomValues, cryptoObj, [b]);
    let s = "";
    for (let i = 0; i < 16; i++) s += HEX[b[i] >> 4] + HEX[b[i] & 15];
    return s;
  };

  apply(addEventListener, win, [
    "message",
    (event) => {
      let source;
      let data;
      try {
        source = apply(msgSource, event, []);
        if (source !== win) return;
        data = apply(msgData, event, []);
      } catch {
        return;
      }
      const tag = own(data, "__latchkey");
      if (tag !== "res" && tag !== "ack") return;
      apply(stopImmediatePropagation, event, []); // our traffic is not the page's business
      const id = own(data, "id");
      if (typeof id !== "string" || !hasOwn(pending, id)) return;
      const entry = pending[id];
      if (tag === "ack") {
        relaySeen = true;
        entry.ack();
      } else {
        entry.settle(own(data, "result"));
      }
    },
    true,
  ]);

  const isAbortSignal = (v) => {
    try {
      apply(signalAborted, v, []);
      return true;
    } catch {
      return false;
    }
  };
  const abortReason = (signal) => {
    let reason;
    try {
      reason = signalReason ? apply(signalReason, signal, []) : undefined;
    } catch {
      reason = undefined;
    }
    return reason === undefined ? domError("The operation was aborted.", "AbortError") : reason;
  };

  const MODAL_MEDIATIONS = objectCreate(null);
  MODAL_MEDIATIONS.optional = true;
  MODAL_MEDIATIONS.required = true;
  MODAL_MEDIATIONS.silent = true;

  const rejected = (e) => new PromiseCtor((_, reject) => reject(e));

  /**
   * The common body of create() and get().
   * @param {"create"|"get"} kind  @param {Function} original  @param {unknown} self  @param {IArguments} args
   */
  const intercept = (kind, original, self, args) => {
    // Anything unusual is the browser's business: it produces its own errors for it.
    if (self !== container) return apply(original, self, args);
    const options = args[0];
    if (!isObject(options)) return apply(original, self, args);
    let publicKey;
    let mediation;
    let signal;
    try {
      mediation = options.mediation;
      publicKey = options.publicKey;
      signal = options.signal;
      if (mediation !== undefined) mediation = str(mediation);
    } catch (e) {
      return rejected(e);
    }
    // Conditional mediation (autofill) is Latchkey's for get; conditional create, a request without
    // publicKey, or a mediation value the browser rejects itself: the browser's own implementation.
    const conditional = kind === "get" && mediation === "conditional";
    if (publicKey === undefined || (mediation !== undefined && !MODAL_MEDIATIONS[mediation] && !conditional)) {
      return apply(original, self, args);
    }
    if (signal !== undefined && !isAbortSignal(signal)) return apply(original, self, args);

    return new PromiseCtor((resolve, reject) => {
      if (signal !== undefined && apply(signalAborted, signal, [])) {
        reject(abortReason(signal));
        return;
      }
      let json;
      try {
        json = kind === "create" ? creationOptions(publicKey, "publicKey") : requestOptions(publicKey, "publicKey");
      } catch (e) {
        reject(e);
        return;
      }

      const id = newId();
      let done = false;
      let ackTimer;
      const finish = () => {
        done = true;
        delete pending[id];
        if (ackTimer !== undefined) clearTimeoutFn(ackTimer);
        if (signal !== undefined) apply(removeEventListener, signal, ["abort", onAbort]);
      };
      const fallback = () => {
        try {
          resolve(apply(original, self, args));
        } catch (e) {
          reject(e);
        }
      };
      const onAbort = () => {
        if (done) return;
        finish();
        try {
          post({ __latchkey: "abort", id });
        } catch {
          // nothing to tell: the relay is gone
        }
        reject(abortReason(signal));
      };
      pending[id] = {
        ack() {
          if (ackTimer !== undefined) clearTimeoutFn(ackTimer);
        },
        settle(result) {
          if (done) return;
          finish();
          const ok = own(result, "ok");
          const error = own(result, "error");
          if (own(result, "fallback") === true) {
            fallback();
          } else if (error !== null && typeof error === "object") {
            reject(makeError({ name: own(error, "name"), message: own(error, "message") }));
          } else if (ok !== null && typeof ok === "object") {
            try {
              resolve(buildCredential(kind, ok));
            } catch (e) {
              reject(domError(`Latchkey returned an unusable credential: ${e && e.message}`, "UnknownError"));
            }
          } else {
            reject(domError("Latchkey gave no usable answer.", "UnknownError"));
          }
        },
      };
      if (signal !== undefined) apply(addEventListener, signal, ["abort", onAbort]);
      // Once the relay is known to be here the timer could only do nothing: none is set.
      if (!relaySeen) {
        ackTimer = apply(setTimeoutFn, win, [
          () => {
            if (done || relaySeen) return;
            finish();
            fallback();
          },
          ACK_TIMEOUT_MS,
        ]);
      }
      try {
        post(conditional ? { __latchkey: "req", id, kind, options: json, mediation: "conditional" } : { __latchkey: "req", id, kind, options: json });
      } catch {
        finish();
        fallback();
      }
    });
  };

  // Method shorthand: no prototype, not constructible, name "create"/"get", length 0 — like the natives.
  const replacements = {
    create() {
      return intercept("create", origCreate, this, arguments);
    },
    get() {
      return intercept("get", origGet, this, arguments);
    },
  };
  disguise(replacements.create, origCreate);
  disguise(replacements.get, origGet);

  const replace = (obj, name, fn) => {
    const d = getOwnPropertyDescriptor(obj, name);
    defineProperty(obj, name, {
      value: fn,
      writable: d ? d.writable : true,
      enumerable: d ? d.enumerable : true,
      configurable: true,
    });
  };
  // PublicKeyCredential.isConditionalMediationAvailable(): true when Latchkey serves this frame
  // (switched on, site not excluded — the relay asks the service worker); otherwise, or without an
  // answer from the relay, the browser's own answer.
  const PKC = PublicKeyCredential;
  const origCma = PKC.isConditionalMediationAvailable;
  if (typeof origCma === "function") {
    const cma = {
      isConditionalMediationAvailable() {
        const self = this;
        const args = arguments;
        return new PromiseCtor((resolve, reject) => {
          const id = newId();
          let done = false;
          let ackTimer;
          const browsers = () => {
            try {
              resolve(apply(origCma, self, args));
            } catch (e) {
              reject(e);
            }
          };
          const finish = () => {
            done = true;
            delete pending[id];
            clearTimeoutFn(ackTimer);
          };
          pending[id] = {
            ack() {
              clearTimeoutFn(ackTimer);
            },
            settle(result) {
              if (done) return;
              finish();
              const ok = own(result, "ok");
              if (ok !== null && typeof ok === "object" && own(ok, "available") === true) resolve(true);
              else browsers();
            },
          };
          ackTimer = apply(setTimeoutFn, win, [
            () => {
              if (done) return;
              finish();
              browsers();
            },
            ACK_TIMEOUT_MS,
          ]);
          try {
            post({ __latchkey: "cma", id });
          } catch {
            finish();
            browsers();
          }
        });
      },
    }.isConditionalMediationAvailable;
    disguise(cma, origCma);
    replace(PKC, "isConditionalMediationAvailable", cma);
  }

  replace(CCProto, "create", replacements.create);
  replace(CCProto, "get", replacements.get);
  replace(Function.prototype, "toString", toStringReplacement);
})();
