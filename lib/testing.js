'use strict';
// `imap-push/testing`: the scriptable IMAP server the project's own tests run
// against, shipped so an app's tests can drive a MailEngine the same way
// without a real mail server. Node builtins only (plus the openssl CLI for
// TLS mode), so it works in an install without devDependencies.
const { MockImapServer, DEFAULT_CAPS, DEFAULT_UIDVALIDITY } = require('./testing/mock-imap-server');
const { makeCerts } = require('./testing/certs');

module.exports = { MockImapServer, makeCerts, DEFAULT_CAPS, DEFAULT_UIDVALIDITY };
