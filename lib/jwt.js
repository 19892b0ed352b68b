'use strict';

// Minimal RS256 JWT verification with node:crypto, for OIDC bearer tokens on
// push endpoints (Google Pub/Sub). Only RS256 is accepted: a token cannot pick
// 'none' or an HMAC algorithm keyed with our public key.

const crypto = require('crypto');
const { optionError } = require('./errors');

const CLOCK_TOLERANCE_SEC = 60;

/** { kid: PEM string | JWK object } -> Map(kid -> KeyObject), validated up front. */
function importKeys(keys, path) {
  if (keys === null || typeof keys !== 'object' || Array.isArray(keys) || Object.keys(keys).length === 0) {
    throw optionError(path, 'must be an object mapping key ids to public keys (PEM or JWK)');
  }
  const out = new Map();
  for (const [kid, value] of Object.entries(keys)) {
    let key;
    try {
      key = typeof value === 'string' || Buffer.isBuffer(value)
        ? crypto.createPublicKey(value)
        : crypto.createPublicKey({ key: value, format: 'jwk' });
    } catch {
      key = null;
    }
    if (!key || key.asymmetricKeyType !== 'rsa') throw optionError(`${path}.${kid}`, 'must be an RSA public key (PEM or JWK)');
    out.set(kid, key);
  }
  return out;
}

function decodePart(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

/**
 * Returns the verified claims or throws an Error whose message says why
 * (never including the token). `keys` is a Map from importKeys.
 */
function verifyJwt(token, { keys, audience, issuers, nowSec = Math.floor(Date.now() / 1000) }) {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) throw new Error('malformed token');
  let header;
  let claims;
  try {
    header = decodePart(parts[0]);
    claims = decodePart(parts[1]);
  } catch {
    throw new Error('malformed token');
  }
  if (!header || header.alg !== 'RS256') throw new Error('unsupported algorithm');
  const key = header.kid !== undefined ? keys.get(header.kid) : keys.size === 1 ? [...keys.values()][0] : undefined;
  if (!key) throw new Error('unknown key id');
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
  if (!crypto.verify('sha256', signed, key, Buffer.from(parts[2], 'base64url'))) throw new Error('bad signature');
  if (!claims || typeof claims !== 'object') throw new Error('malformed claims');
  if (!issuers.includes(claims.iss)) throw new Error('wrong issuer');
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(audience)) throw new Error('wrong audience');
  if (typeof claims.exp !== 'number' || claims.exp + CLOCK_TOLERANCE_SEC <= nowSec) throw new Error('expired');
  if (typeof claims.nbf === 'number' && claims.nbf - CLOCK_TOLERANCE_SEC > nowSec) throw new Error('not yet valid');
  return claims;
}

module.exports = { importKeys, verifyJwt };
