// Deliberately wrong: test/types-tsd.test.js runs tsd on this file alone and expects a diagnostic on exactly the
// lines marked `must fail`, one per kind of assertion, so a tsd run that reports nothing cannot pass unnoticed.
import { expectType, expectError, expectAssignable, expectNotAssignable, expectDeprecated } from 'tsd';
import { MailEngine } from '../../..';
import type { AccountOptions, AccountStatus } from '../../..';
import { MockImapServer } from '../../../lib/testing';

const engine = new MailEngine();
const account = { id: 'a', host: 'h', user: 'u', pass: 'p' };
const withPool = { ...account, pool: { maxTotal: 1 } };

expectType<Promise<AccountStatus>>(engine.addAccount(account));
expectType<Promise<number[] | null>>(engine.search('a', 'INBOX')); // must fail: declared too wide
expectType<Promise<number>>(new MockImapServer().close()); // must fail: not the type
engine.on('messageDeleted', (e) => expectType<number>(e.seq)); // must fail: seq is null
expectError(engine.addAccount(account)); // must fail: it compiles
expectNotAssignable<AccountOptions>(account); // must fail: it is assignable
expectAssignable<AccountOptions>(withPool); // must fail: pool is engine-wide
expectDeprecated(engine.addAccount); // must fail: nothing is deprecated
engine.addAccount({ ...account, pool: {} }); // must fail: a plain compile error
