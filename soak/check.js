'use strict';
// Compares what the app reported with what the writer did and what the server holds at the end.
// events: { run, inc, t, kind: 'new' | 'flags' | 'deleted' | 'reset', a, f, uid, mid?, flags? } in
// log order; run counts app processes, inc counts addAccount calls of one account within a run.

const sameFlags = (x, y) => x.length === y.length && x.every((v, i) => v === y[i]);
const keyOf = (e) => `${e.a}|${e.f}|${e.uid}`;
// Well above Dovecot's ~0.5 s coalescing; detection under faults took up to ~30 s in the 30-minute run.
const REVERT_WINDOW_MS = 15000;

// How much of [a, b] the blind windows cover (they may overlap each other).
function blindWithin(blind, a, b) {
  let covered = 0;
  let upTo = a;
  for (const w of [...blind].sort((x, y) => x.from - y.from)) {
    const from = Math.max(w.from, upTo);
    const to = Math.min(w.to, b);
    if (to > from) covered += to - from;
    upTo = Math.max(upTo, to);
  }
  return covered;
}

// blind: [{ from, to }] while a blackhole held connections (soak/faults.js). Which account a held
// connection served is not known (TLS end to end), so a window counts for every account.
function check({ events, writer, server, blind = [] }) {
  const violations = [];
  const fail = (what, detail) => violations.push({ what, detail });
  const stats = { reported: 0, duplicatesAcrossRestarts: 0, maxDetectMs: { new: 0, flag: 0, expunge: 0 }, undoneUnseen: { quick: 0, blackholed: 0 } };

  const byKey = new Map(); // key -> events for that message, in order
  const midToKey = new Map();
  const seenNew = new Map(); // `${run}|${inc}|key` -> count
  const seenGone = new Map();
  for (const e of events) {
    if (e.kind === 'reset') {
      fail('folderReset', `${e.a}/${e.f} (nothing changes UIDVALIDITY in the soak)`);
      continue;
    }
    const key = keyOf(e);
    if (!byKey.has(key)) byKey.set(key, []);
    byKey.get(key).push(e);
    const within = `${e.run}|${e.a}|${e.inc}|${key}`;
    if (e.kind === 'new') {
      if (midToKey.has(e.mid) && midToKey.get(e.mid) !== key) fail('one Message-ID, two UIDs', `${e.mid}: ${midToKey.get(e.mid)} and ${key}`);
      midToKey.set(e.mid, key);
      const n = (seenNew.get(within) || 0) + 1;
      seenNew.set(within, n);
      if (n > 1) fail('newMessage twice within one run', `${key} (${e.mid}) run ${e.run}`);
    } else if (e.kind === 'deleted') {
      const n = (seenGone.get(within) || 0) + 1;
      seenGone.set(within, n);
      if (n > 1) fail('messageDeleted twice within one run', `${key} run ${e.run}`);
    }
  }
  const perMessageReports = new Map();
  for (const within of seenNew.keys()) {
    const key = within.split('|').slice(3).join('|');
    perMessageReports.set(key, (perMessageReports.get(key) || 0) + 1);
  }
  for (const n of perMessageReports.values()) stats.duplicatesAcrossRestarts += n - 1;

  // Every append reported at least once; the first report bounds its detection time.
  for (const [mid, w] of writer.appends) {
    const key = midToKey.get(mid);
    if (!key) {
      fail('message never reported', `${mid} in ${w.a}/${w.f}`);
      continue;
    }
    stats.reported++;
    const first = byKey.get(key).find((e) => e.kind === 'new');
    stats.maxDetectMs.new = Math.max(stats.maxDetectMs.new, first.t - w.t);
  }

  // Every successful flag change is followed by a report of that state or a later one, or of the
  // message's deletion: changes in quick succession may legitimately be seen only as their result.
  const opsByKey = new Map();
  for (const op of writer.ops) {
    if (!opsByKey.has(op.key)) opsByKey.set(op.key, []);
    opsByKey.get(op.key).push(op);
  }
  for (const [key, ops] of opsByKey) {
    const evs = byKey.get(key) || [];
    ops.forEach((op, i) => {
      if (!op.ok) return;
      let hit;
      if (op.kind === 'expunge') {
        hit = evs.find((e) => e.kind === 'deleted' && e.t >= op.start);
      } else {
        const later = ops.slice(i).filter((o) => o.ok && o.kind === 'flag');
        hit = evs.find((e) => e.t >= op.start && (e.kind === 'deleted' ||
          ((e.kind === 'flags' || e.kind === 'new') && later.some((o) => sameFlags(o.flags, e.flags)))));
        // A state undone within the detection window need not be seen: a sync after a fault, or
        // Dovecot coalescing its IDLE notifications, shows only that nothing changed. Time spent in
        // a blackhole does not count: the app could not see anything then.
        const before = evs.filter((e) => e.kind !== 'deleted' && e.t < op.start).pop();
        const undone = !hit && before && later.find((o) => sameFlags(o.flags, before.flags));
        if (undone === op) return; // it set what was last reported: nothing to see
        if (undone && undone.start - op.end < REVERT_WINDOW_MS) {
          stats.undoneUnseen.quick++;
          return;
        }
        if (undone && undone.start - op.end - blindWithin(blind, op.end, undone.start) < REVERT_WINDOW_MS) {
          stats.undoneUnseen.blackholed++;
          return;
        }
      }
      if (!hit) {
        const at = (t) => new Date(t).toISOString().slice(11, 23);
        const story = [...ops.map((o) => `${at(o.start)}-${at(o.end)} ${o.kind}${o.flags ? ` [${o.flags}]` : ''}${o.ok ? '' : ' failed'}`),
          ...evs.map((e) => `${at(e.t)} ${e.kind} run ${e.run}${e.flags ? ` [${e.flags}]` : ''}`)].sort();
        fail(op.kind === 'expunge' ? 'expunge never reported' : 'flag change never reported',
          `${key} at ${new Date(op.start).toISOString()}${op.flags ? ` -> [${op.flags}]` : ''}; ${story.join('; ')}`);
        return;
      }
      const k = op.kind === 'expunge' ? 'expunge' : 'flag';
      stats.maxDetectMs[k] = Math.max(stats.maxDetectMs[k], hit.t - op.end);
    });
  }

  // The server is the truth: every message it holds was reported, with its current flags last;
  // every message reported and no longer there was reported deleted after its last other report.
  for (const [key, s] of server) {
    const evs = (byKey.get(key) || []).filter((e) => e.kind !== 'deleted');
    if (evs.length === 0) {
      if (!writer.appends.has(s.mid) || midToKey.has(s.mid)) fail('server message never reported', `${key} ${s.mid}`);
      continue;
    }
    const last = evs[evs.length - 1];
    if (!sameFlags(last.flags, s.flags)) fail('last reported flags differ from the server', `${key}: reported [${last.flags}], server [${s.flags}]`);
  }
  for (const [key, evs] of byKey) {
    if (server.has(key)) continue;
    const lastDeleted = evs.map((e) => e.kind).lastIndexOf('deleted');
    const lastOther = evs.map((e) => e.kind).lastIndexOf('new');
    if (lastDeleted < lastOther) fail('expunged message not reported deleted', key);
  }
  return { violations, stats };
}

module.exports = { check, sameFlags, blindWithin };
