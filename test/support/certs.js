'use strict';
// Self-signed localhost certificate for TLS tests. Generated with the openssl
// CLI because Node has no built-in X.509 *creation* API; cached per process so
// a test run pays the RSA key generation cost once.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

let cached = null;

function makeCerts(dir) {
  if (cached && !dir) return cached;
  const outDir = dir || fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-certs-'));
  fs.mkdirSync(outDir, { recursive: true });
  const keyPath = path.join(outDir, 'key.pem');
  const certPath = path.join(outDir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', keyPath, '-out', certPath,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  // Dovecot may read these as an unprivileged user when we run as root.
  fs.chmodSync(outDir, 0o755);
  fs.chmodSync(keyPath, 0o644);
  fs.chmodSync(certPath, 0o644);
  const cert = fs.readFileSync(certPath, 'utf8');
  const result = {
    key: fs.readFileSync(keyPath, 'utf8'),
    cert,
    caPem: cert, // self-signed: the cert is its own CA
    keyPath,
    certPath,
    dir: outDir,
  };
  if (!dir) {
    cached = result;
    // Only the process-wide cache dir is ours to clean up automatically.
    process.once('exit', () => {
      try { fs.rmSync(outDir, { recursive: true, force: true }); } catch (_) { /* best effort */ }
    });
  }
  return result;
}

module.exports = { makeCerts };
