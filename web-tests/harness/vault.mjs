// Helpers for the vault tests (docs/design.md, "The vault", "Extension messages for the vault",
// "The prompt"): raw-storage inspection, the no-plaintext check, corruption, prompt stages.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';

/** The PIN the test flavor creates and unlocks the vault with (docs/design.md, "The prompt"). */
export const TEST_FLAVOR_PIN = 'latchkey-test-pin';

/** PKCS#8 DER prefix of every P-256 private key, base64 (and base64url: the same characters). */
export const PKCS8_P256_PREFIX_B64 = 'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg';
export const PKCS8_P256_PREFIX_B64URL = PKCS8_P256_PREFIX_B64.replace(/\+/g, '-').replace(/\//g, '_');
/** The same DER prefix hex-encoded (a storage format could also use hex). */
export const PKCS8_P256_PREFIX_HEX = Buffer.from(PKCS8_P256_PREFIX_B64, 'base64').toString('hex');

/** A value as stored: entries/headers may be stored as JSON strings or as objects. */
export function parseStored(value) {
  if (typeof value === 'string') {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value;
}

/** Re-store `obj` in the representation `original` had (string JSON or object). */
export function likeOriginal(original, obj) {
  return typeof original === 'string' ? JSON.stringify(obj) : obj;
}

/** A short, comparable picture of the vault keys in raw storage.local. */
export function vaultKeys(storage) {
  const keys = Object.keys(storage);
  return {
    entries: keys.filter((k) => k.startsWith('vault:e:')).sort(),
    previous: keys.filter((k) => k.startsWith('vault:p:')).sort(),
    cred: keys.filter((k) => k.startsWith('cred:')),
    header: 'vault:header' in storage,
    backup: 'vault:header:backup' in storage,
  };
}

/**
 * docs/design.md: nothing secret in plaintext. `secrets` are strings that must appear in NO key
 * and NO value of storage.local (user names, rpIds, labels, the PIN …).
 */
export function assertNoPlaintextSecrets(storage, session, secrets, what = 'storage') {
  const keys = Object.keys(storage);
  assert.deepEqual(keys.filter((k) => k.startsWith('cred:')), [], `${what}: issue-2 plaintext cred: records are still there`);
  const allowedTop = /^(vault:header|vault:header:backup|vault:failures|settings|vault:[ep]:[A-Za-z0-9_-]+)$/;
  assert.deepEqual(keys.filter((k) => !allowedTop.test(k)), [], `${what}: storage.local has keys outside the documented layout`);

  const needles = [
    ...secrets.filter(Boolean),
    'privateKey',
    PKCS8_P256_PREFIX_B64,
    PKCS8_P256_PREFIX_B64URL,
    PKCS8_P256_PREFIX_HEX,
  ];
  for (const [k, v] of Object.entries(storage)) {
    const text = `${k}\n${typeof v === 'string' ? v : JSON.stringify(v)}`;
    for (const n of needles) {
      assert.ok(!text.includes(n), `${what}: ${k} contains ${JSON.stringify(n)} in plaintext: ${text.slice(0, 300)}`);
    }
  }

  // Every entry (and previous version) has exactly {v, id, nonce, ct, rp, cred}, id = its key's
  // suffix; rp and cred are the keyed lookup tags of the passkey's site and credential id (16 bytes,
  // base64url each: never the site or the id itself).
  for (const k of keys.filter((x) => x.startsWith('vault:e:') || x.startsWith('vault:p:'))) {
    const e = parseStored(storage[k]);
    assert.equal(typeof e, 'object', `${what}: ${k} is not an entry object: ${JSON.stringify(storage[k]).slice(0, 200)}`);
    assert.deepEqual(Object.keys(e).sort(), ['cred', 'ct', 'id', 'nonce', 'rp', 'v'], `${what}: ${k} has members ${Object.keys(e)}`);
    assert.match(e.rp, /^[A-Za-z0-9_-]{22}$/, `${what}: ${k}.rp is not a 16-byte base64url tag`);
    assert.match(e.cred, /^[A-Za-z0-9_-]{22}$/, `${what}: ${k}.cred is not a 16-byte base64url tag`);
    assert.notEqual(e.cred, e.rp, `${what}: ${k}: the two tags are keyed apart`);
    assert.equal(e.v, 1, `${what}: ${k}.v`);
    assert.equal(e.id, k.slice('vault:e:'.length), `${what}: ${k}.id does not match its key`);
    assert.match(e.nonce, /^[A-Za-z0-9_-]+$/, `${what}: ${k}.nonce is not base64url`);
    assert.match(e.ct, /^[A-Za-z0-9_-]+$/, `${what}: ${k}.ct is not base64url`);
  }

  // storage.session: only vaultKey / lastActivity (never a PIN, never a record).
  const extra = Object.keys(session).filter((k) => k !== 'vaultKey' && k !== 'lastActivity');
  assert.deepEqual(extra, [], `${what}: storage.session holds more than vaultKey/lastActivity: ${JSON.stringify(session).slice(0, 300)}`);
  const sessionText = JSON.stringify(session);
  for (const n of needles) assert.ok(!sessionText.includes(n), `${what}: storage.session contains ${JSON.stringify(n)}`);
}

/** Flip one character in the middle of a base64url string (always a different character). */
export function flipChar(s, at = Math.floor(s.length / 2)) {
  const c = s[at];
  const r = c === 'A' ? 'B' : 'A';
  return s.slice(0, at) + r + s.slice(at + 1);
}

/** The prompt id from a prompt handle's URL (prompt.html?id=…). */
export async function promptIdOf(prompt) {
  return new URL(await prompt.url()).searchParams.get('id');
}

/**
 * Wait until the field labelled `label` is marked invalid (aria-invalid="true") with a message in
 * its accessible description; returns that description. The prompt shows errors next to the field.
 */
export async function waitForFieldError(ui, label, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  let st = null;
  while (Date.now() < deadline) {
    st = await ui.fieldState(label);
    if (st && st.invalid === 'true' && st.description) return st.description;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the field "${label}" never showed an error within ${timeoutMs} ms; its state: ${JSON.stringify(st)}; visible: ${JSON.stringify(await ui.names().catch(() => null))}`);
}

/** Poll vault-status until pred(status) holds (bounded); returns the status. */
export async function waitForVaultStatus(b, pred, what, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  let st = null;
  while (Date.now() < deadline) {
    st = await b.vaultStatus();
    if (pred(st)) return st;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`vault-status never showed ${what} within ${timeoutMs} ms; last: ${JSON.stringify(st)}`);
}

/** The unwrapped ok value of an extension message; throws with the error otherwise. */
export async function okOf(b, msg) {
  const a = await b.extMessage(msg);
  assert.ok(a && 'ok' in a, `${msg.type} answered ${JSON.stringify(a)}`);
  return a.ok;
}

/** Assert an extension message answers {error: {name}}; returns the error. */
export async function errorOf(b, msg, name) {
  const a = await b.extMessage(msg);
  assert.ok(a && a.error, `${msg.type}: expected error ${name}, got ${JSON.stringify(a)}`);
  assert.equal(a.error.name, name, `${msg.type}: expected ${name}, got ${JSON.stringify(a.error)}`);
  return a.error;
}

// ---------- issue-2 plaintext records (migration) ----------


/**
 * A passkey in issue 2's plaintext format (`cred:<id>` in storage.local, the PasskeyRecord v1 of
 * docs/design.md) made in node, plus its COSE public key so the RP can be told about it.
 */
export function legacyPasskey({ rpId = 'localhost', rpName = 'Latchkey Demo RP', userName, userHandle, created = Date.now() }) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const jwk = publicKey.export({ format: 'jwk' });
  const credentialId = crypto.randomBytes(16).toString('base64url');
  const x = Buffer.from(jwk.x, 'base64url');
  const y = Buffer.from(jwk.y, 'base64url');
  // COSE_Key {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}, canonical CBOR.
  const cose = Buffer.concat([
    Buffer.from([0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]), x,
    Buffer.from([0x22, 0x58, 0x20]), y,
  ]);
  const record = {
    v: 1,
    credentialId,
    rpId,
    rpName,
    userHandle,
    userName,
    userDisplayName: userName,
    alg: -7,
    privateKey: pkcs8.toString('base64url'),
    created,
    lastUsed: null,
    signCount: 0,
  };
  return { key: `cred:${credentialId}`, record, credentialId, cose: new Uint8Array(cose) };
}

/** Tell the (in-process) RP about a passkey made outside any browser, in `client`'s session. */
export async function rpAdoptPasskey(rp, client, { username, userHandle, credentialId, cose }) {
  await client.state(); // creates the session
  const s = rp.sessions.get(client.sid);
  assert.ok(s, 'the RP session exists');
  const cred = {
    id: credentialId, publicKey: cose, counter: 0, transports: ['internal'], username,
    aaguid: null, userVerified: false, deviceType: 'singleDevice', backedUp: false,
    created: Date.now(), lastUsed: null, signIns: 0,
  };
  s.users.set(username, { username, displayName: username, userId: userHandle, credentials: [cred] });
  s.credentials.set(credentialId, cred);
}
