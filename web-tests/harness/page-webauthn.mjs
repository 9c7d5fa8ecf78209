// The in-page half of `webauthnInPage`, shared by the Chromium and Firefox harnesses.
//
// PAGE_WEBAUTHN_SRC is the source of one async function that runs IN THE PAGE (main world):
//   (kind: "create"|"get", options: L3 JSON options, opts) →
//     {ok: cred.toJSON(), instanceOf, ms, info}   or   {error: {name, message, ...}, ms}
//
// Options are converted from JSON with a hand-written base64url converter, NOT
// PublicKeyCredential.parseCreationOptionsFromJSON: the browser's parser rejects malformed options
// (missing challenge, …) itself, and the error cases must reach navigator.credentials — and thus
// the extension — unchanged. Only members that are present are converted; everything else is
// passed through as is.
//
// opts: {abortAfterMs?: number (AbortController safety net, default 20000),
//        abortReason?: string (abort with an Error of that name; the result says isReason),
//        mediation?: string}
//
// `info` records what the returned object's own API says (each call wrapped, so a throwing
// "Illegal invocation" is reported instead of failing the whole call).

function pageWebauthn(kind, options, opts) {
  opts = opts || {};
  const b64urlToBuf = (s) => {
    if (typeof s !== 'string') return s; // leave non-strings alone: tests may pass odd values
    const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4);
    const bin = atob(b64);
    const u8 = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
    return u8.buffer;
  };
  const bufToB64url = (buf) => {
    if (buf == null) return buf;
    const u8 = buf instanceof ArrayBuffer ? new Uint8Array(buf) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    let bin = '';
    for (let i = 0; i < u8.length; i++) bin += String.fromCharCode(u8[i]);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  const convDesc = (list) =>
    Array.isArray(list) ? list.map((d) => (d && typeof d === 'object' ? { ...d, id: b64urlToBuf(d.id) } : d)) : list;

  const publicKey = { ...options };
  if ('challenge' in publicKey) publicKey.challenge = b64urlToBuf(publicKey.challenge);
  if (kind === 'create') {
    if (publicKey.user && typeof publicKey.user === 'object' && 'id' in publicKey.user) {
      publicKey.user = { ...publicKey.user, id: b64urlToBuf(publicKey.user.id) };
    }
    if ('excludeCredentials' in publicKey) publicKey.excludeCredentials = convDesc(publicKey.excludeCredentials);
  } else if ('allowCredentials' in publicKey) {
    publicKey.allowCredentials = convDesc(publicKey.allowCredentials);
  }

  const ac = new AbortController();
  // opts.abortReason: abort with an Error of that name (the page's own reason object) instead of
  // the default AbortError; the rejection must be that very object.
  const reasonObj = opts.abortReason ? Object.assign(new Error('page abort reason'), { name: opts.abortReason }) : undefined;
  const safety = setTimeout(() => ac.abort(reasonObj), opts.abortAfterMs || 20000);
  const request = { publicKey, signal: ac.signal };
  if (opts.mediation) request.mediation = opts.mediation;

  const t0 = performance.now();
  const call = kind === 'create' ? navigator.credentials.create(request) : navigator.credentials.get(request);
  return Promise.resolve(call).then(
    (cred) => {
      const ms = performance.now() - t0;
      clearTimeout(safety);
      if (cred === null || cred === undefined) return { error: { name: 'NullResult', message: 'resolved with ' + cred }, ms };
      const info = {};
      const probe = (name, f) => {
        try {
          info[name] = f();
        } catch (e) {
          info[name] = { threw: (e && e.name) + ': ' + (e && e.message) };
        }
      };
      const r = cred.response;
      probe('type', () => cred.type);
      // 0 for the browser's own PublicKeyCredential (proxy mode); the shim's object has own accessors.
      probe('ownProps', () => Object.getOwnPropertyNames(cred).length);
      probe('id', () => cred.id);
      probe('rawId', () => bufToB64url(cred.rawId));
      probe('authenticatorAttachment', () => cred.authenticatorAttachment);
      probe('clientExtensionResults', () => cred.getClientExtensionResults());
      probe('responseInstanceOf', () =>
        kind === 'create'
          ? typeof AuthenticatorAttestationResponse !== 'undefined' && r instanceof AuthenticatorAttestationResponse
          : typeof AuthenticatorAssertionResponse !== 'undefined' && r instanceof AuthenticatorAssertionResponse);
      probe('responseIsAuthenticatorResponse', () => typeof AuthenticatorResponse !== 'undefined' && r instanceof AuthenticatorResponse);
      probe('clientDataJSON', () => JSON.parse(new TextDecoder().decode(r.clientDataJSON)));
      probe('jsonStringifyWorks', () => typeof JSON.parse(JSON.stringify(cred)).id === 'string');
      // Every binary member must be an ArrayBuffer of THIS realm (sites test `instanceof`).
      probe('arrayBuffers', () => {
        const m = { rawId: () => cred.rawId, clientDataJSON: () => r.clientDataJSON };
        if (kind === 'create') {
          m.attestationObject = () => r.attestationObject;
          m.getPublicKey = () => r.getPublicKey();
          m.getAuthenticatorData = () => r.getAuthenticatorData();
        } else {
          m.authenticatorData = () => r.authenticatorData;
          m.signature = () => r.signature;
          if (r.userHandle !== null) m.userHandle = () => r.userHandle;
        }
        const out = {};
        for (const k of Object.keys(m)) {
          try {
            out[k] = m[k]() instanceof ArrayBuffer;
          } catch (e) {
            out[k] = 'threw ' + e.name;
          }
        }
        return out;
      });
      if (kind === 'create') {
        probe('transports', () => r.getTransports());
        probe('publicKeyAlgorithm', () => r.getPublicKeyAlgorithm());
        probe('publicKey', () => bufToB64url(r.getPublicKey()));
        probe('authenticatorData', () => bufToB64url(r.getAuthenticatorData()));
        probe('attestationObject', () => bufToB64url(r.attestationObject));
      } else {
        probe('authenticatorData', () => bufToB64url(r.authenticatorData));
        probe('signature', () => bufToB64url(r.signature));
        probe('userHandle', () => bufToB64url(r.userHandle));
      }
      let json;
      try {
        json = cred.toJSON();
        // Make sure it is plain, serialisable data.
        json = JSON.parse(JSON.stringify(json));
      } catch (e) {
        return { error: { name: 'HarnessToJSON', message: 'toJSON() threw ' + e.name + ': ' + e.message }, ms, info };
      }
      let instanceOf = false;
      try {
        instanceOf = cred instanceof PublicKeyCredential;
      } catch (e) {
        instanceOf = false;
      }
      return { ok: json, instanceOf, ms, info };
    },
    (e) => {
      const ms = performance.now() - t0;
      clearTimeout(safety);
      return {
        error: {
          name: e && e.name,
          message: e && e.message,
          isDOMException: typeof DOMException !== 'undefined' && e instanceof DOMException,
          isTypeError: e instanceof TypeError,
          aborted: ac.signal.aborted,
          isReason: reasonObj !== undefined && e === reasonObj,
        },
        ms,
      };
    },
  );
}

export const PAGE_WEBAUTHN_SRC = pageWebauthn.toString();

/** Percentile summary of a list of milliseconds ("n=3 p50=1.2ms max=4.5ms"). */
export function summarize(list) {
  if (!list.length) return 'n=0';
  const s = [...list].sort((a, b) => a - b);
  const p50 = s[Math.floor((s.length - 1) / 2)];
  return `n=${s.length} p50=${p50.toFixed(1)}ms max=${s[s.length - 1].toFixed(1)}ms`;
}
