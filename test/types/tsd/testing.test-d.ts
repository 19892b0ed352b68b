// tsd assertions on lib/testing.d.ts (imap-push/testing), run by test/types-tsd.test.js.
import { expectType, expectError, expectAssignable, expectNotAssignable } from 'tsd';
import { EventEmitter } from 'events';
import { MockImapServer, makeCerts, DEFAULT_CAPS, DEFAULT_UIDVALIDITY } from '../../../lib/testing';
import type {
  MockClientInfo, MockCommandLogEntry, MockImapServerOptions, MockMailbox, MockMessage, MockMessageOptions,
} from '../../../lib/testing';

const server = new MockImapServer({ users: { alice: 'secret' } });
expectType<MockImapServer>(server);
expectType<MockImapServer>(new MockImapServer());
expectAssignable<EventEmitter>(server);

// Members.
expectType<Promise<number>>(server.listen());
expectType<Promise<void>>(server.close());
expectType<number>(server.port);
expectType<string>(server.caPem);
expectType<Record<string, string>>(server.users);
expectType<Record<string, string>>(server.tokens);
expectType<MockCommandLogEntry[]>(server.commandLog);
expectType<Set<string>>(server.subscriptions);
expectType<Record<string, number> | null>(server.quotaLimits);
expectType<Error[]>(server.errors);
expectType<number>(server.loginAttempts);
expectType<number>(server.acceptedConnections);
expectType<number>(server.connections);
expectType<MockClientInfo[]>(server.clients());
expectType<'notauth' | 'auth' | 'selected'>(server.clients()[0].state);
expectType<boolean>(server.hasCapability('IDLE'));
expectType<void>(server.setCapability('MOVE', false));
expectType<MockMailbox | null>(server.mailbox());
expectType<MockMailbox | null>(server.mailbox('INBOX'));
expectType<MockMessage[]>(server.createMailbox('Archive', { uidValidity: 7 }).messages);
expectType<string[]>(server.mailboxNames());
expectType<boolean>(server.deleteMailbox('Archive'));
expectType<void>(server.renameMailbox('A', 'B'));
expectType<void>(server.setQuota({ STORAGE: 1024 }));
expectType<void>(server.setQuota(null));
expectType<{ STORAGE: number; MESSAGE: number }>(server.quotaUsage());
expectType<number>(server.appendMessage('INBOX', { subject: 's', from: 'a@b', to: 'c@d', body: 'hi', flags: ['\\Seen'] }));
expectType<number>(server.appendMessage({ raw: Buffer.from('Subject: x\r\n\r\n') }));
expectType<number>(server.appendMessage());
expectType<boolean>(server.expunge('INBOX', 1));
expectType<boolean>(server.setFlags('INBOX', 1, ['\\Flagged']));
expectType<void>(server.setUidValidity('INBOX', 9, { renumber: false, disconnect: false }));
expectType<Promise<MockCommandLogEntry>>(server.waitFor('IDLE'));
expectType<Promise<MockCommandLogEntry>>(server.waitFor((e) => e.command === 'DONE', 1000, { includePast: false }));
expectType<Promise<MockCommandLogEntry>>(server.waitForNext('LOGOUT', 500));

// Fault injection.
expectType<void>(server.dropAll());
expectType<void>(server.dropConnection(1));
expectType<void>(server.stall());
expectType<void>(server.stall(100));
expectType<void>(server.unstall());
expectType<void>(server.stallConnection(1));
expectType<void>(server.byeAll('going away'));
expectType<void>(server.injectRaw('* garbage\r\n', { all: true }));
expectType<void>(server.injectRaw(Buffer.from('* 1 FETCH (\r\n')));
expectType<void>(server.hugeLiteral(1e6));
expectType<void>(server.neverAnswer((e) => e.command === 'UID FETCH'));
expectType<void>(server.neverAnswer(null));
expectType<void>(server.refuse((e) => e.command === 'APPEND', 'NO [LIMIT] Too big'));
expectType<void>(server.delay(10));
expectType<void>(server.failNextConnections(2));
expectType<void>(server.setAuthFail(true));
expectType<void>(server.setTooManyConnections());
expectType<boolean | string | null>(server.rejectGreeting);

// Events.
expectType<MockImapServer>(server.on('connection', (id) => expectType<number>(id)));
server.on('disconnect', (id) => expectType<number>(id));
server.on('command', (entry) => {
  expectType<MockCommandLogEntry>(entry);
  expectType<string | undefined>(entry.user);
});
server.once('serverError', (err) => expectType<Error>(err));

// Helpers.
expectType<{ key: string; cert: string; caPem: string }>(makeCerts());
expectType<{ key: string; cert: string; caPem: string; keyPath: string; certPath: string }>(makeCerts('/tmp/certs'));
expectType<readonly string[]>(DEFAULT_CAPS);
expectType<number>(DEFAULT_UIDVALIDITY);

// What must not compile.
expectError(server.port = 1);
expectError(server.caPem = '');
expectError(server.connections = 0);
expectError(DEFAULT_CAPS.push('X'));
expectError(makeCerts().keyPath);
expectError(server.on('conection', () => {}));
expectError(server.on('connection', (id: string) => id));
expectError(server.appendMessage('INBOX', { flags: '\\Seen' }));
expectError(server.appendMessage('INBOX', { subjet: 'x' }));
expectError(server.waitFor(/IDLE/));
expectError(server.neverAnswer('IDLE'));
expectError(server.setCapability('MOVE'));
expectError(new MockImapServer({ users: { alice: 1 } }));
expectError(new MockImapServer({ users: ['alice'] }));
expectError(new MockImapServer({ tls: 'starttls' }));
expectError(new MockImapServer({ port: '143' }));
expectError(new MockImapServer({ quoteStyle: 'quoted' }));
expectError(new MockImapServer({ capability: ['IMAP4rev1'] }));
expectAssignable<MockImapServerOptions>({ tls: 'implicit', starttls: true, loginDisabledWithoutTls: true, cert: Buffer.alloc(0), key: '' });
expectNotAssignable<MockMessageOptions>({ raw: 42 });
