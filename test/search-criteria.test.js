'use strict';

// Every documented search() criteria key (README "search"), run against the
// mock server and checked by the UIDs it returns; a representative subset,
// MODSEQ included, against Dovecot; and Gmail's X-GM-RAW where the server
// offers X-GM-EXT-1.

const { dovecotAvailable } = require('./support/dovecot');
const { useEngineFixture } = require('./support/engine-fixture');
const { waitUntil } = require('./support/wait');

const day = (d) => new Date(Date.UTC(2026, ...d, 12));
// Three messages that each key tells apart: [fields, flags, internal date].
const MESSAGES = [
  [{ subject: 'Booking Paris', from: 'alice@example.com', to: 'hotel@example.com', cc: 'boss@example.com',
    body: 'Room for two.\r\n', headers: { 'X-Priority': '1' } }, ['\\Seen'], day([0, 10])],
  [{ subject: 'Invoice', from: 'bob@example.com', to: 'alice@example.com', body: `Amount due: 100 EUR\r\n${'x'.repeat(2000)}\r\n`,
    headers: { Bcc: 'audit@example.com' } },
    ['\\Flagged', '\\Answered'], day([1, 15])],
  [{ subject: 'Draft reply', from: 'carol@example.com', to: 'bob@example.com', cc: 'alice@example.com', body: 'Short.\r\n',
    headers: { 'X-Tag': 'urgent' } }, ['\\Draft', '\\Deleted'], day([2, 1])],
];
// Each key alone (and or / not), and the messages (1-based) it must find.
// modseq is filled in at run time: at least the second message's MODSEQ.
const CASES = [
  ['seen', { seen: true }, [1]],
  ['seen: false', { seen: false }, [2, 3]],
  ['flagged', { flagged: true }, [2]],
  ['answered', { answered: true }, [2]],
  ['deleted', { deleted: true }, [3]],
  ['deleted: false', { deleted: false }, [1, 2]],
  ['draft', { draft: true }, [3]],
  ['from', { from: 'bob@' }, [2]],
  ['to', { to: 'bob@' }, [3]],
  ['cc', { cc: 'alice@' }, [3]],
  ['bcc', { bcc: 'audit@' }, [2]],
  ['subject', { subject: 'invoice' }, [2]],
  ['body', { body: 'amount due' }, [2]],
  ['body is not the header', { body: 'invoice' }, []],
  ['text', { text: 'invoice' }, [2]],
  ['header', { header: { 'X-Tag': 'urgent' } }, [3]],
  ['since', { since: day([1, 15]) }, [2, 3]],
  ['before', { before: day([1, 15]) }, [1]],
  ['on', { on: day([1, 15]) }, [2]],
  ['larger', { larger: 1500 }, [2]],
  ['smaller', { smaller: 1500 }, [1, 3]],
  ['uid', { uid: [1, 3] }, [1, 3]],
  ['modseq', { modseq: 'second' }, [2, 3]],
  ['or', { or: [{ from: 'bob@' }, { cc: 'boss@' }] }, [1, 2]],
  ['not', { not: { seen: true } }, [2, 3]],
  ['several keys AND', { seen: false, deleted: false }, [2]],
];
// What Dovecot runs of it: every kind of key, and MODSEQ.
const DOVECOT = ['seen', 'flagged', 'deleted', 'from', 'cc', 'bcc', 'subject', 'body', 'text', 'header', 'since', 'on', 'larger',
  'uid', 'modseq', 'or', 'not'];

/** The case's criteria with UIDs and the MODSEQ placeholder resolved for these messages. */
function criteriaFor(criteria, uids, modseqOf) {
  if (criteria.modseq === 'second') return { modseq: modseqOf(uids[1]) };
  if (criteria.uid) return { uid: criteria.uid.map((n) => uids[n - 1]) };
  return criteria;
}

describe('every search key against the mock server', () => {
  const fx = useEngineFixture();
  let uids;

  beforeEach(async () => {
    await fx.mock({ setup: (s) => s.setCapability('X-GM-EXT-1', true) });
    uids = MESSAGES.map(([fields, flags, internalDate]) => fx.server.appendMessage('INBOX', { ...fields, flags, internalDate }));
    await waitUntil(() => fx.named('newMessage').length === 3, 5000, 'three newMessage');
  });

  test.each(CASES)('%s', async (_, criteria, want) => {
    const modseqOf = (uid) => fx.server.mailbox('INBOX').messages.find((m) => m.uid === uid).modseq;
    expect(await fx.engine.search('a', 'INBOX', criteriaFor(criteria, uids, modseqOf))).toEqual(want.map((n) => uids[n - 1]));
  });

  test('a uid set too long for one command line goes as its span, and the answer is cut to the set', async () => {
    const odd = Array.from({ length: 2000 }, (_, i) => 2 * i + 1); // 1,3,...,3999: no ranges to join
    const lastSearch = () => fx.server.commandLog.filter((c) => c.command === 'UID SEARCH').pop().args;
    expect(await fx.engine.search('a', 'INBOX', { uid: odd })).toEqual([uids[0], uids[2]]);
    expect(lastSearch()).toBe('RETURN (ALL) UID 1:3999');
    expect(await fx.engine.search('a', 'INBOX', { uid: odd.join(','), seen: false })).toEqual([uids[2]]);
    expect(lastSearch()).toBe('RETURN (ALL) UID 1:3999 UNSEEN');
    // Inside or / not a span would change the meaning: refused, nothing sent.
    const sent = fx.server.commandLog.length;
    await expect(fx.engine.search('a', 'INBOX', { not: { uid: odd } })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'criteria.not.uid' });
    expect(fx.server.commandLog.length).toBe(sent);
    // A list that compresses goes whole, compressed.
    expect(await fx.engine.search('a', 'INBOX', { uid: Array.from({ length: 3000 }, (_, i) => 3000 - i).join(',') })).toEqual(uids);
    expect(lastSearch()).toBe('RETURN (ALL) UID 1:3000');
  });

  test('gmailRaw goes as X-GM-RAW where the server offers X-GM-EXT-1 (the mock runs it as TEXT)', async () => {
    expect(await fx.engine.search('a', 'INBOX', { gmailRaw: 'amount due' })).toEqual([uids[1]]);
    expect(fx.server.commandLog.filter((c) => c.command === 'UID SEARCH').pop().args).toBe('RETURN (ALL) X-GM-RAW "amount due"');
    expect(await fx.engine.search('a', 'INBOX', { gmailRaw: 'from:nobody', seen: true })).toEqual([]);
  });
});

const describeDovecot = dovecotAvailable() ? describe : describe.skip;
describeDovecot('search keys against Dovecot', () => {
  const fx = useEngineFixture();

  test('each key finds what it finds on the mock', async () => {
    await fx.dovecotAccount();
    const { engine, events } = fx;
    const uids = [];
    for (const [fields, flags, internalDate] of MESSAGES) {
      const head = [`From: ${fields.from}`, `To: ${fields.to}`, ...(fields.cc ? [`Cc: ${fields.cc}`] : []), `Subject: ${fields.subject}`,
        ...Object.entries(fields.headers || {}).map(([k, v]) => `${k}: ${v}`)];
      uids.push((await engine.append('a', 'INBOX', `${head.join('\r\n')}\r\n\r\n${fields.body}`, { flags, internalDate })).uid);
    }
    await waitUntil(() => events.filter((e) => e.name === 'newMessage').length === 3, 15000, 'three newMessage');
    // Dovecot's MODSEQs are its own: two STOREs, so the second message's is below the third's and above the first's.
    const second = (await engine.addFlags('a', 'INBOX', uids[1], ['$Touched'])).modseq;
    const third = (await engine.addFlags('a', 'INBOX', uids[2], ['$Touched'])).modseq;
    expect(third).toBeGreaterThan(second);
    expect(await engine.search('a', 'INBOX', { modseq: third })).toEqual([uids[2]]);
    for (const [name, criteria, want] of CASES.filter(([n]) => DOVECOT.includes(n))) {
      const resolved = criteriaFor(criteria, uids, () => second);
      expect([name, await engine.search('a', 'INBOX', resolved)]).toEqual([name, want.map((n) => uids[n - 1])]);
    }
  }, 60000);
});
