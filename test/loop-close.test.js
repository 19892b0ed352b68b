'use strict';

// test/support/assert-loop-close.js makes every close() in the Jest suites
// check that the engine's uv_loop_close() returned 0. This proves the check
// is wired through the binding and can fail.

const { MailEngine } = require('..');

test('close() reports loopClosedCleanly from the binding', async () => {
  const engine = new MailEngine();
  await engine.close();
  expect(engine._loopClosedCleanly).toBe(true);
});

test('close() rejects in the tests when the loop did not close cleanly', async () => {
  const engine = new MailEngine();
  const handle = engine._handle.bind(engine);
  engine._handle = (name, payload) => handle(name, name === 'closed' ? { ...payload, loopClosedCleanly: false } : payload);
  await expect(engine.close()).rejects.toThrow(/uv_loop_close\(\) did not return 0/);
});
