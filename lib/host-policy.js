'use strict';

// Where a tenant's account may connect. Without this the router is a port
// scanner for anyone who can call it: loopback services, the private network,
// the cloud metadata service. By default only public addresses on the IMAP
// ports are reachable; the operator's allowHosts opens more. The name is
// resolved here, every address it resolves to is checked, and the engine is
// given the checked address (the certificate is still verified against the
// name, through tlsOptions.servername), so a DNS answer that changes between
// the check and the connect (rebinding) cannot take the account elsewhere.

const dns = require('dns');
const net = require('net');
const { optionError, ImapPushError } = require('./errors');

const IMAP_PORTS = [143, 993];
const LOOKUP_TIMEOUT_MS = 10 * 1000;

// Not the public internet: RFC 6890 special-purpose blocks, and the ones an
// IPv6 address can embed an IPv4 address in (checked through the embedding).
const BLOCKED = [
  ['0.0.0.0', 8, 'ipv4'], ['10.0.0.0', 8, 'ipv4'], ['100.64.0.0', 10, 'ipv4'], ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.0.0.0', 24, 'ipv4'], ['192.0.2.0', 24, 'ipv4'],
  ['192.88.99.0', 24, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['198.18.0.0', 15, 'ipv4'], ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'], ['224.0.0.0', 4, 'ipv4'], ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'], ['::1', 128, 'ipv6'], ['::', 96, 'ipv6'], ['100::', 64, 'ipv6'], ['2001::', 23, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'], ['fc00::', 7, 'ipv6'], ['fe80::', 10, 'ipv6'], ['fec0::', 10, 'ipv6'], ['ff00::', 8, 'ipv6'],
];
const blocked = new net.BlockList();
for (const [address, prefix, type] of BLOCKED) blocked.addSubnet(address, prefix, type);

/** Expands an IPv6 address to its 8 groups of 16 bits. */
function ipv6Groups(address) {
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[1].split('.').map(Number);
    text = `${text.slice(0, -v4[1].length)}${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, null];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === null ? [] : new Array(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16));
}

const v4From = (hi, lo) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/** The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4), else null. */
function embeddedIpv4(address) {
  const g = ipv6Groups(address);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return v4From(g[6], g[7]); // ::ffff:a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4From(g[6], g[7]); // 64:ff9b::/96
  if (g[0] === 0x2002) return v4From(g[1], g[2]); // 6to4
  return null;
}

/** Why an address is not public, or null for a public one. */
function privateReason(address) {
  const type = net.isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (blocked.check(address, type)) return `${address} is a loopback, private, link-local or reserved address`;
  if (type === 'ipv6') {
    const v4 = embeddedIpv4(address);
    if (v4 && blocked.check(v4, 'ipv4')) return `${address} embeds ${v4}, a loopback, private, link-local or reserved address`;
  }
  return null;
}

const normalizeName = (host) => host.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');

/** One allowHosts entry: 'host', 'host:port', '[v6]:port', an IP address, or a CIDR block. */
function parseEntry(entry, i) {
  const name = `allowHosts[${i}]`;
  if (typeof entry !== 'string' || entry === '') throw optionError(name, "must be a non-empty string: 'host', 'host:port' or a CIDR such as '10.0.0.0/8'");
  const cidr = /^([^/]+)\/(\d{1,3})$/.exec(entry);
  if (cidr) {
    const family = net.isIP(cidr[1]);
    const prefix = Number(cidr[2]);
    if (!family || prefix > (family === 4 ? 32 : 128)) throw optionError(name, `is not a valid CIDR block: '${entry}'`);
    const list = new net.BlockList();
    list.addSubnet(cidr[1], prefix, family === 4 ? 'ipv4' : 'ipv6');
    return { list, port: null };
  }
  let host = entry;
  let port = null;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  const hostPort = /^([^:]+):(\d+)$/.exec(entry);
  if (bracketed) [, host, port] = bracketed;
  else if (hostPort) [, host, port] = hostPort;
  if (port !== null && port !== undefined) {
    port = Number(port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw optionError(name, `has an invalid port: '${entry}'`);
  } else port = null;
  host = normalizeName(host);
  const family = net.isIP(host);
  if (family) {
    const list = new net.BlockList();
    list.addAddress(host, family === 4 ? 'ipv4' : 'ipv6');
    return { list, port };
  }
  if (!/^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(host)) {
    throw optionError(name, `is not a host name, address or CIDR block: '${entry}'`);
  }
  return { name: host, port };
}

const familyOf = (address) => (net.isIP(address) === 6 ? 'ipv6' : 'ipv4');

function allowedBy(entries, name, address, port) {
  return entries.some((e) => (e.port === null || e.port === port)
    && (e.name ? e.name === name : e.list.check(address, familyOf(address))));
}

const refusal = () => new ImapPushError('HOST_NOT_ALLOWED', 'this host is not allowed, or does not resolve to an address this service may connect to');

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`lookup took over ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * createRouter's allowHosts and lookup -> check(config) resolving to the
 * { host, servername } the engine must use, or rejecting with HOST_NOT_ALLOWED
 * (one answer for "forbidden" and "does not resolve", so the check is no
 * oracle for which internal names exist). report(detail) gets the reason.
 */
function createHostPolicy({ allowHosts = [], lookup } = {}) {
  if (!Array.isArray(allowHosts)) throw optionError('allowHosts', "must be an array of 'host', 'host:port' or CIDR strings");
  if (lookup !== undefined && typeof lookup !== 'function') throw optionError('lookup', 'must be a function (hostname, { all: true }) => Promise<{ address, family }[]>');
  const entries = allowHosts.map(parseEntry);
  const resolve = lookup || ((host, options) => dns.promises.lookup(host, options));

  return async function check(config, report) {
    const name = normalizeName(config.host);
    const port = config.port;
    let addresses;
    if (net.isIP(name)) addresses = [name];
    else {
      try {
        const found = await withTimeout(Promise.resolve(resolve(name, { all: true, verbatim: true })), LOOKUP_TIMEOUT_MS);
        addresses = (Array.isArray(found) ? found : [found]).map((a) => (typeof a === 'string' ? a : a && a.address));
      } catch (err) {
        report(`${name} does not resolve (${err && err.code ? err.code : 'lookup failed'})`);
        throw refusal();
      }
      if (addresses.length === 0 || addresses.some((a) => typeof a !== 'string' || !net.isIP(a))) {
        report(`${name} resolved to no usable address`);
        throw refusal();
      }
    }
    for (const address of addresses) {
      if (allowedBy(entries, name, address, port)) continue;
      const why = privateReason(address) || (IMAP_PORTS.includes(port) ? null : `port ${port} is not an IMAP port (${IMAP_PORTS.join(', ')})`);
      if (why) {
        report(`${name}:${port}: ${why}, and allowHosts does not allow it`);
        throw refusal();
      }
    }
    // Every address passed; the engine connects to the first, as it would have.
    const servername = config.tlsOptions.servername || (net.isIP(name) ? undefined : name);
    return { host: addresses[0], servername };
  };
}

module.exports = { createHostPolicy, privateReason, IMAP_PORTS };
