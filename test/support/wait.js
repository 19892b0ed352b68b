'use strict';

// Bounded waiting for engine events in tests: every wait has a deadline.

function waitForEvent(emitter, name, predicate = () => true, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(name, onEvent);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for '${name}'`));
    }, timeoutMs);
    function onEvent(payload) {
      if (!predicate(payload)) return;
      clearTimeout(timer);
      emitter.off(name, onEvent);
      resolve(payload);
    }
    emitter.on(name, onEvent);
  });
}

/** Records every public event of an engine, in order. */
function recordEvents(engine) {
  const names = ['newMessage', 'messageDeleted', 'flagsChanged', 'connectionStatus', 'idleRefreshed', 'folderReset'];
  const events = [];
  for (const name of names) engine.on(name, (payload) => events.push({ name, ...payload }));
  events.of = (name) => events.filter((e) => e.name === name);
  return events;
}

async function waitUntil(check, timeoutMs = 10000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

module.exports = { waitForEvent, recordEvents, waitUntil, sleep };
