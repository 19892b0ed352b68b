'use strict';
// Self-signed localhost certificate for TLS tests. Generated with the openssl
// CLI because Node has no built-in X.509 *creation* API; cached per process so
// a test run pays the RSA key generation cost once.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

let cached = null;

// makeCerts() -> { key, cert, caPem } (PEM strings; caPem === cert since it is
// self-signed). With `dir`, key.pem/cert.pem are (re)generated there and kept;
// without it the files live only briefly in a temp dir.
function makeCerts(dir) {
  if (cached && !dir) return cached;
  const outDir = dir || fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-certs-'));
  fs.mkdirSync(outDir, { recursive: true });
  const keyPath = path.join(outDir, 'key.pem');
  const certPath = path.join(outDir, 'cert.pem');
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
      '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', keyPath, '-out', certPath,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    const cert = fs.readFileSync(certPath, 'utf8');
    const result = { key: fs.readFileSync(keyPath, 'utf8'), cert, caPem: cert };
    if (dir) return { ...result, keyPath, certPath };
    cached = result;
    return result;
  } finally {
    if (!dir) fs.rmSync(outDir, { recursive: true, force: true });
  }
}

module.exports = { makeCerts };
