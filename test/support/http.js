'use strict';

// HTTP helpers for the Express tests: an app on 127.0.0.1:0, JSON requests
// that keep every response body (to check none leaks a credential), and a
// Server-Sent Events reader over http.get.

const http = require('http');
const { waitUntil } = require('./wait');

async function listen(app) {
  const server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const base = `http://127.0.0.1:${server.address().port}`;
  const close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return { server, base, close };
}

/** Returns request(method, path, { headers, body, raw }) -> { status, headers, text, json }; `bodies` collects every reply. */
function client(base) {
  const bodies = [];
  async function request(method, path, { headers = {}, body, raw } = {}) {
    const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(15000) };
    if (raw !== undefined) init.body = raw;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['content-type'] = 'application/json';
    }
    const res = await fetch(base + path, init);
    const text = await res.text();
    bodies.push(text);
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, headers: res.headers, text, json };
  }
  return { request, bodies };
}

/** Opens an SSE stream; events are { event, data } with data parsed, comments are the ': ...' lines. */
function openSse(url, headers = {}) {
  const stream = { events: [], comments: [], status: null, headers: null, ended: false };
  let buffer = '';
  const parseFrame = (frame) => {
    let event = 'message';
    const data = [];
    for (const line of frame.split('\n')) {
      if (line.startsWith(':')) stream.comments.push(line.slice(1).trim());
      else if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length) stream.events.push({ event, data: JSON.parse(data.join('\n')) });
  };
  const opened = new Promise((resolve, reject) => {
    stream.req = http.get(url, { headers }, (res) => {
      stream.status = res.statusCode;
      stream.headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          parseFrame(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      });
      res.on('end', () => {
        stream.ended = true;
      });
      res.on('error', () => {
        stream.ended = true;
      });
      resolve(stream);
    });
    stream.req.on('error', reject);
  });
  stream.waitFor = (predicate, what, timeoutMs = 10000) => waitUntil(() => stream.events.some(predicate), timeoutMs, what)
    .then(() => stream.events.find(predicate));
  stream.close = () => stream.req.destroy();
  return opened;
}

// Header-based auth for the router tests: x-tenant names the tenant, x-admin: 1 makes it an admin, and the
// tenant 'banned' is refused with 403 (any other missing credentials give the router's 401).
function authorize(req) {
  const tenant = req.get('x-tenant');
  if (!tenant) throw new Error('no credentials');
  if (tenant === 'banned') throw Object.assign(new Error('banned tenant'), { status: 403 });
  return { tenant, admin: req.get('x-admin') === '1' };
}

/** The headers that make a request the tenant's (or an admin's) for authorize above. */
const as = (tenant, admin = false) => ({ 'x-tenant': tenant, ...(admin ? { 'x-admin': '1' } : {}) });

module.exports = { listen, client, openSse, authorize, as };
