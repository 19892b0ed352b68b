'use strict';

// The router's mailbox-action routes (issue 16), tenant-scoped like the rest:
// an account a tenant cannot see answers 404 NOT_FOUND (what: 'account'),
// byte for byte the answer for an id nobody has or one removed meanwhile, as
// the engine's actions do. A missing folder, message or part is 404 NOT_FOUND
// with what: 'folder' / 'message' / 'part'. Bodies are validated by the
// engine's own methods (TypeError -> 400 INVALID_OPTION) and errors mapped as
// everywhere else in the router: fixed texts, never the server's.
//
//   POST   /accounts/:accountId/flags        { folder, uids, add?, remove?, set?, unchangedSince? }
//   POST   /accounts/:accountId/move         { folder, uids, destination }
//   POST   /accounts/:accountId/copy         { folder, uids, destination }
//   POST   /accounts/:accountId/delete       { folder, uids }
//   POST   /accounts/:accountId/append       { folder, raw | rawBase64, flags?, internalDate? }
//   POST   /accounts/:accountId/search       { folder, criteria }
//   GET    /accounts/:accountId/messages?folder=&start=&end=&since=&before=     one page, at most 200
//   GET    /accounts/:accountId/messages/:uid/parts/:part?folder=&maxBytes=    the decoded bytes, as a download
//   POST   /accounts/:accountId/folders      { path }          create
//   PATCH  /accounts/:accountId/folders      { from, to }      rename
//   DELETE /accounts/:accountId/folders?path=                  delete

const { optionError } = require('./errors');
const { sendError, sendMappedError, isObject } = require('./http');

const MAX_PAGE = 200;

function intParam(q, name, { min, max, dflt }) {
  if (q[name] === undefined) return dflt;
  const n = Number(q[name]);
  if (!/^\d+$/.test(String(q[name])) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw optionError(name, `must be an integer from ${min} to ${max}`);
  }
  return n;
}

function mountActions(router, engine, { authenticate, safe, accountFor, send = (res, id, result) => res.json(result) }) {
  // In the caller's terms: the engine's message would name its own key for the account.
  const noAccount = (res, name) => sendError(res, 404, 'NOT_FOUND', `no account '${name}'`, { what: 'account' });
  // Runs `act(accountId, body)` for an account the caller may see; 404 otherwise.
  const route = (act) => safe(async (req, res) => {
    const id = accountFor(req, req.params.accountId);
    if (!id) return noAccount(res, req.params.accountId);
    try {
      const result = await act(id, isObject(req.body) ? req.body : {}, req, res);
      if (result !== undefined) send(res, id, result);
    } catch (err) {
      // Removed meanwhile.
      if (err && (err.code === 'UNKNOWN_ACCOUNT' || (err.code === 'NOT_FOUND' && err.what === 'account'))) {
        return noAccount(res, req.params.accountId);
      }
      sendMappedError(res, err);
    }
  });

  router.post('/accounts/:accountId/flags', authenticate, route(async (id, b) => {
    const ops = ['add', 'remove', 'set'].filter((k) => b[k] !== undefined);
    if (ops.length !== 1) throw optionError('add', 'give exactly one of add, remove or set (an array of flags)');
    const method = { add: 'addFlags', remove: 'removeFlags', set: 'setFlags' }[ops[0]];
    const options = b.unchangedSince === undefined ? undefined : { unchangedSince: b.unchangedSince };
    return engine[method](id, b.folder, b.uids, b[ops[0]], options);
  }));
  router.post('/accounts/:accountId/move', authenticate, route((id, b) => engine.move(id, b.folder, b.uids, b.destination)));
  router.post('/accounts/:accountId/copy', authenticate, route((id, b) => engine.copy(id, b.folder, b.uids, b.destination)));
  router.post('/accounts/:accountId/delete', authenticate, route((id, b) => engine.deleteMessages(id, b.folder, b.uids)));
  router.post('/accounts/:accountId/append', authenticate, route((id, b) => {
    if ((b.raw === undefined) === (b.rawBase64 === undefined)) throw optionError('raw', 'give raw (a string) or rawBase64');
    if (b.rawBase64 !== undefined && (typeof b.rawBase64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(b.rawBase64))) {
      throw optionError('rawBase64', 'must be base64');
    }
    const raw = b.raw !== undefined ? b.raw : Buffer.from(b.rawBase64, 'base64');
    const options = {};
    if (b.flags !== undefined) options.flags = b.flags;
    if (b.internalDate !== undefined) options.internalDate = b.internalDate;
    return engine.append(id, b.folder, raw, options);
  }));
  router.post('/accounts/:accountId/search', authenticate, route(async (id, b) => ({ uids: await engine.search(id, b.folder, b.criteria) })));

  router.get('/accounts/:accountId/messages', authenticate, route(async (id, b, req) => {
    const q = req.query;
    const start = intParam(q, 'start', { min: 1, max: Number.MAX_SAFE_INTEGER, dflt: 1 });
    const end = intParam(q, 'end', { min: start, max: start + MAX_PAGE - 1, dflt: start + 49 });
    const options = { range: { start, end }, batchSize: Math.min(end - start + 1, MAX_PAGE) };
    if (q.since !== undefined) options.since = String(q.since);
    if (q.before !== undefined) options.before = String(q.before);
    const messages = [];
    for await (const m of engine.messages(id, String(q.folder || 'INBOX'), options)) messages.push(m);
    return { start, end, messages };
  }));

  router.get('/accounts/:accountId/messages/:uid/parts/:part', authenticate, route(async (id, b, req, res) => {
    const uid = intParam(req.params, 'uid', { min: 1, max: 0xffffffff });
    const maxBytes = intParam(req.query, 'maxBytes', { min: 1, max: 64 * 1024 * 1024, dflt: undefined });
    const part = await engine.downloadPart(id, String(req.query.folder || 'INBOX'), uid, req.params.part,
      maxBytes === undefined ? undefined : { maxBytes });
    // Served as a download, never rendered: a part's own type could be HTML.
    res.set({
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': 'attachment',
      'X-Content-Type-Options': 'nosniff',
      'X-Part-Content-Type': part.contentType.replace(/[^\x21-\x7e]/g, ''),
      'X-Part-Truncated': String(part.truncated),
      'Content-Length': String(part.size),
    });
    part.pipe(res);
    return undefined;
  }));

  router.post('/accounts/:accountId/folders', authenticate, route((id, b) => engine.createFolder(id, b.path)));
  router.patch('/accounts/:accountId/folders', authenticate, route((id, b) => engine.renameFolder(id, b.from, b.to)));
  router.delete('/accounts/:accountId/folders', authenticate, route((id, b, req) => engine.deleteFolder(id, req.query.path)));
}

module.exports = { mountActions, MAX_PAGE };
