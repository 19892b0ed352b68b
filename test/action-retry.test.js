'use strict';

// An action that outlives its connection (issue 16): retried once on a new
// connection when it is idempotent (search; flags are in actions.test.js),
// otherwise rejected with CONNECTION_LOST, saying it was not retried (move,
// append: they may have happened). The mock drops the connection the moment
// it reads the command.

const { useEngineFixture } = require('./support/engine-fixture');
const { waitUntil } = require('./support/wait');

describe('actions whose connection drops mid-command', () => {
  const fx = useEngineFixture();
  let server;
  let engine;
  let uids;

  beforeEach(async () => {
    await fx.mock({ setup: (s) => s.createMailbox('Archive'), engineOptions: { reconnect: { initialDelayMs: 50 } } });
    ({ server, engine } = fx);
    uids = [1, 2].map((i) => server.appendMessage('INBOX', { subject: `booking ${i}` }));
    await waitUntil(() => fx.named('newMessage').length === 2, 5000, 'two newMessage');
  });

  // Drops the connection of every command `match` picks, `times` times; the log entries it dropped.
  function dropOn(match, times = Infinity) {
    const dropped = [];
    server.on('command', (entry) => {
      if (!match(entry) || dropped.length >= times) return;
      dropped.push(entry);
      server.dropConnection(entry.conn);
    });
    return dropped;
  }
  const logged = (match) => server.commandLog.filter(match);

  test('a search is retried once on a new connection, and answers', async () => {
    const isOurs = (e) => e.command === 'UID SEARCH' && e.args.includes('SUBJECT');
    const dropped = dropOn(isOurs, 1);
    expect(await engine.search('a', 'INBOX', { subject: 'booking' })).toEqual(uids);
    const sent = logged(isOurs);
    expect(sent).toHaveLength(2);
    expect(dropped).toEqual([sent[0]]);
    expect(sent[1].conn).not.toBe(sent[0].conn);
  });

  test('a search whose retry drops too rejects with CONNECTION_LOST after exactly two tries', async () => {
    const isOurs = (e) => e.command === 'UID SEARCH' && e.args.includes('SUBJECT');
    dropOn(isOurs);
    await expect(engine.search('a', 'INBOX', { subject: 'booking' })).rejects.toMatchObject({
      code: 'CONNECTION_LOST', message: expect.stringContaining('retried once'),
    });
    expect(logged(isOurs)).toHaveLength(2);
  });

  test.each([
    ['move', 'UID MOVE', () => engine.move('a', 'INBOX', uids[0], 'Archive')],
    ['append', 'APPEND', () => engine.append('a', 'Archive', 'Subject: draft\r\nMessage-ID: <d1@x>\r\n\r\nhi\r\n')],
  ])('%s rejects with CONNECTION_LOST and is not retried', async (_, command, call) => {
    dropOn((e) => e.command === command);
    await expect(call()).rejects.toMatchObject({
      code: 'CONNECTION_LOST', accountId: 'a', message: expect.stringContaining('not retried'),
    });
    expect(logged((e) => e.command === command)).toHaveLength(1);
    // The account's other work goes on, on a new connection.
    expect(await engine.search('a', 'INBOX', {})).toEqual(expect.any(Array));
    expect(logged((e) => e.command === command)).toHaveLength(1);
  });
});
