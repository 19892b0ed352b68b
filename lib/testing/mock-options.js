'use strict';
// MockImapServer's constructor options: the defaults, and a TypeError naming
// the option for anything the server would otherwise misread silently (a typo
// in a user's test would test a different server than they think).

const DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  tls: 'none',
  starttls: false,
  loginDisabledWithoutTls: false,
  quoteStyle: 'literal',
  greeting: 'Mock IMAP ready',
  maxConnections: Infinity,
  idleKeepaliveMs: 0, // >0: send "* OK Still here" while idling, like Dovecot
};

const isString = (v) => typeof v === 'string';
const isPem = (v) => typeof v === 'string' || Buffer.isBuffer(v);
const isBool = (v) => typeof v === 'boolean';
const isStringMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)
  && Object.values(v).every(isString);

const CHECKS = {
  host: [isString, 'a string'],
  port: [(v) => Number.isInteger(v) && v >= 0 && v <= 65535, 'an integer 0-65535'],
  tls: [(v) => v === 'none' || v === 'implicit', "'none' or 'implicit'"],
  starttls: [isBool, 'a boolean'],
  loginDisabledWithoutTls: [isBool, 'a boolean'],
  quoteStyle: [(v) => v === 'literal' || v === 'escape', "'literal' or 'escape'"],
  greeting: [isString, 'a string'],
  maxConnections: [(v) => typeof v === 'number' && v >= 0 && !Number.isNaN(v), 'a number >= 0 (or Infinity)'],
  idleKeepaliveMs: [(v) => Number.isFinite(v) && v >= 0, 'a number of ms >= 0'],
  users: [isStringMap, 'an object of user name -> password strings'],
  tokens: [isStringMap, 'an object of user name -> OAuth token strings'],
  capabilities: [(v) => Array.isArray(v) && v.every(isString), 'an array of strings'],
  rejectGreeting: [(v) => v === null || isBool(v) || isString(v), 'a boolean'],
  uidValidity: [(v) => Number.isInteger(v) && v > 0 && v <= 0xffffffff, 'an integer 1-4294967295'],
  cert: [isPem, 'a PEM string or Buffer'],
  key: [isPem, 'a PEM string or Buffer'],
};

function normalizeMockOptions(opts) {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new TypeError('MockImapServer: options must be an object');
  }
  for (const [name, value] of Object.entries(opts)) {
    const check = CHECKS[name];
    if (!check) throw new TypeError(`MockImapServer: ${name} is not a known option`);
    if (value !== undefined && !check[0](value)) throw new TypeError(`MockImapServer: ${name} must be ${check[1]}`);
  }
  if (!opts.cert !== !opts.key) throw new TypeError(`MockImapServer: ${opts.cert ? 'key' : 'cert'} is required with ${opts.cert ? 'cert' : 'key'}`);
  const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  return { ...DEFAULTS, ...defined };
}

module.exports = { normalizeMockOptions, MOCK_OPTION_KEYS: Object.keys(CHECKS) };
