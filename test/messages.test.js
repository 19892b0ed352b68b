'use strict';

// engine.messages() (issue 16): a folder paged through in batches on the
// pool, each batch fetched only when the consumer gets to it.

const { dovecotAvailable } = require('./support/dovecot');
const { useEngineFixture } = require('./support/engine-fixture');
const { waitUntil } = require('./support/wait');

const MULTIPART = ['From: a@example.com', 'Subject: with attachment', 'X-Folded: one', ' two', 'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"', '', '--b1', 'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable', '', 'hello', '--b1', 'Content-Type: application/pdf',
  'Content-Disposition: attachment; filename="ticket.pdf"', 'Content-Transfer-Encoding: base64', '', 'JVBERi0=', '--b1--', ''].join('\r\n');

const collect = async (it) => {
  const out = [];
  for await (const m of it) out.push(m);
  return out;
};

describe('bodyStructure shaping', () => {
  const { bodyStructure } = require('../lib/bodystructure');
  test('an attached message/rfc822 numbers its own parts below its part', () => {
    const inner = [['TEXT', 'PLAIN', null, null, null, '7BIT', 3, 1], ['IMAGE', 'PNG', ['NAME', 'a.png'], null, null, 'BASE64', 8], 'MIXED'];
    const tree = bodyStructure([['TEXT', 'HTML', ['CHARSET', 'utf-8'], null, null, 'QUOTED-PRINTABLE', 40, 2],
      ['MESSAGE', 'RFC822', null, null, null, '7BIT', 500, [], inner, 20], 'MIXED', ['BOUNDARY', 'x']]);
    expect(tree.childNodes.map((n) => [n.part, n.type])).toEqual([['1', 'text/html'], ['2', 'message/rfc822']]);
    expect(tree.childNodes[1].childNodes.map((n) => [n.part, n.type, n.parameters])).toEqual([
      ['2.1', 'text/plain', {}], ['2.2', 'image/png', { name: 'a.png' }]]);
    expect(bodyStructure(['TEXT', 'PLAIN', null, null, null, '7BIT', 3, 1]).part).toBe('1');
    expect(bodyStructure('garbage')).toBeNull();
  });
});

describe('messages() against the mock server', () => {
  const fx = useEngineFixture();
  let server;
  let engine;

  async function start(count) {
    await fx.mock({
      setup: (s) => {
        for (let i = 1; i <= count; i++) {
          s.appendMessage('INBOX', { subject: `m${i}`, from: `f${i}@example.com`, internalDate: new Date(Date.UTC(2026, 0, i)) });
        }
      },
    });
    ({ server, engine } = fx);
  }
  const listFetches = () => server.commandLog.filter((c) => c.command === 'UID FETCH' && /INTERNALDATE ENVELOPE\)$/.test(c.args));

  test('every message once, in UID order, in batches of batchSize', async () => {
    await start(25);
    const all = await collect(engine.messages('a', 'INBOX', { batchSize: 10 }));
    expect(all.map((m) => m.uid)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(all[4]).toMatchObject({ accountId: 'a', folder: 'INBOX', uid: 5, flags: [], envelope: { subject: 'm5', from: [{ address: 'f5@example.com' }] } });
    expect(all[4].size).toBeGreaterThan(0);
    expect(all[4].internalDate.getTime()).toBe(Date.UTC(2026, 0, 5));
    expect(all[4].uidValidity).toBe(server.mailbox('INBOX').uidValidity);
    expect(all[4]).not.toHaveProperty('requestId');
    expect(listFetches().map((c) => c.args.split(' ')[0])).toEqual(['1:10', '11:20', '21:25']);
  });

  test('one batch is fetched ahead of the consumer, and no further', async () => {
    await start(35);
    const it = engine.messages('a', 'INBOX', { batchSize: 10 });
    const first = [];
    for await (const m of it) {
      first.push(m.uid);
      if (first.length === 3) break;
    }
    expect(first).toEqual([1, 2, 3]);
    // The second batch was asked for while the loop was on the first; nothing past it.
    await waitUntil(() => listFetches().length === 2, 5000, 'the batch ahead');
    await new Promise((r) => setTimeout(r, 200));
    expect(listFetches().map((c) => c.args.split(' ')[0])).toEqual(['1:10', '11:20']);
  });

  test('uids, since/before and range choose', async () => {
    await start(30);
    expect((await collect(engine.messages('a', 'INBOX', { uids: '3:5,9' }))).map((m) => m.uid)).toEqual([3, 4, 5, 9]);
    const jan = await collect(engine.messages('a', 'INBOX', { since: new Date(Date.UTC(2026, 0, 10)), before: new Date(Date.UTC(2026, 0, 13)) }));
    expect(jan.map((m) => m.envelope.subject)).toEqual(['m10', 'm11', 'm12']);
    expect((await collect(engine.messages('a', 'INBOX', { range: { start: 28 } }))).map((m) => m.uid)).toEqual([28, 29, 30]);
    const paged = [];
    for await (const m of engine.messages('a', 'INBOX', { range: { start: 3, end: 9 }, batchSize: 4 })) paged.push(m.uid);
    expect(paged).toEqual([3, 4, 5, 6, 7, 8, 9]);
  });

  test("fields: ['bodyStructure', 'headers'] add the part tree and the header block", async () => {
    await fx.mock({ setup: (s) => s.appendMessage('INBOX', { raw: MULTIPART }) });
    const [m] = await collect(fx.engine.messages('a', 'INBOX', { fields: ['bodyStructure', 'headers'] }));
    expect(m.bodyStructure).toMatchObject({
      part: null, type: 'multipart/mixed', parameters: { boundary: 'b1' },
      childNodes: [
        { part: '1', type: 'text/plain', parameters: { charset: 'utf-8' }, encoding: 'quoted-printable' },
        { part: '2', type: 'application/pdf', encoding: 'base64', disposition: 'attachment', dispositionParameters: { filename: 'ticket.pdf' } },
      ],
    });
    expect(m.headers.subject).toEqual(['with attachment']);
    expect(m.headers['x-folded']).toEqual(['one two']);
    const [plain] = await collect(fx.engine.messages('a', 'INBOX'));
    expect(plain).not.toHaveProperty('bodyStructure');
    expect(plain).not.toHaveProperty('headers');
    expect(() => fx.engine.messages('a', 'INBOX', { fields: ['body'] })).toThrow(/fields/);
  });

  test('bad options are TypeErrors naming the option; a missing folder rejects NOT_FOUND', async () => {
    await start(1);
    expect(() => engine.messages('a', 'INBOX', { batchSize: 0 })).toThrow(/batchSize/);
    expect(() => engine.messages('a', 'INBOX', { batchSize: 5000 })).toThrow(/batchSize/);
    expect(() => engine.messages('a', 'INBOX', { range: { start: 0 } })).toThrow(/range/);
    expect(() => engine.messages('a', 'INBOX', { colour: 1 })).toThrow(/colour/);
    expect(() => engine.messages('a', '', {})).toThrow(/folder/);
    await expect(collect(engine.messages('a', 'Nowhere'))).rejects.toMatchObject({ code: 'NOT_FOUND', what: 'folder' });
    await expect(collect(engine.messages('nobody', 'INBOX'))).rejects.toMatchObject({ code: 'NOT_FOUND', what: 'account' });
  });
});

const describeDovecot = dovecotAvailable() ? describe : describe.skip;
describeDovecot('messages() against Dovecot', () => {
  const fx = useEngineFixture();

  test('30 delivered messages come back in order, in batches of 7', async () => {
    await fx.dovecotAccount({ setup: (d) => {
      for (let i = 1; i <= 30; i++) d.deliver('alice', `Subject: d${i}\r\nFrom: x@example.com\r\n\r\nbody ${i}\r\n`);
    } });
    const { engine } = fx;
    await waitUntil(async () => (await engine.search('a', 'INBOX', {})).length === 30, 15000, 'the 30 messages');
    const all = await collect(engine.messages('a', 'INBOX', { batchSize: 7, fields: ['bodyStructure', 'headers'] }));
    expect(all.map((m) => m.envelope.subject)).toEqual(Array.from({ length: 30 }, (_, i) => `d${i + 1}`));
    expect(all[0].bodyStructure).toMatchObject({ part: '1', type: 'text/plain', encoding: '7bit' });
    expect(all[0].headers.subject).toEqual(['d1']);
    expect(new Set(all.map((m) => m.uid)).size).toBe(30);
  }, 60000);
});
