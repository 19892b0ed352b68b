'use strict';

// A folder's sync state as the cluster keeps it in ${prefix}:state:<id>
// (one hash field per folder), written under the account's lease:
//   { uidValidity, lastUid, highestModseq, uids }
// lastUid: every message up to it is in EmailNewMessage. highestModseq
// (servers with CONDSTORE, else null): every flag change up to it is in
// EmailChanged. uids: the UIDs up to lastUid the owner knew to be in the
// folder, as a compressed UID set ("1:40,42"), so that a new owner can tell
// which were expunged while no one watched. A state written before these
// two existed has neither; the next owner starts keeping them.

/** A set of UIDs as sorted, disjoint, non-adjacent ranges [lo, hi]: a mailbox is mostly runs. */
class UidRanges {
  constructor(ranges = []) {
    this.r = ranges;
  }

  static from(uids) {
    const set = new UidRanges();
    for (const u of [...uids].sort((a, b) => a - b)) set.add(u);
    return set;
  }

  /** "1:5,9" -> UidRanges; throws on anything else. */
  static parse(text) {
    if (text === '') return new UidRanges();
    const out = [];
    for (const part of text.split(',')) {
      const [lo, hi = lo] = part.split(':').map(Number);
      if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || lo < 1 || hi < lo || (out.length && lo <= out[out.length - 1][1] + 1)) {
        throw new Error(`bad UID set in the sync state: ${text.slice(0, 40)}`);
      }
      out.push([lo, hi]);
    }
    return new UidRanges(out);
  }

  // The index of the first range whose hi >= uid (r.length when none).
  _find(uid) {
    let lo = 0;
    let hi = this.r.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.r[mid][1] < uid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  has(uid) {
    const i = this._find(uid);
    return i < this.r.length && this.r[i][0] <= uid;
  }

  add(uid) {
    const last = this.r[this.r.length - 1];
    if (!last || uid > last[1] + 1) { this.r.push([uid, uid]); return; } // the usual case: a new, higher UID
    if (uid === last[1] + 1) { last[1] = uid; return; }
    const i = this._find(uid);
    const cur = this.r[i];
    if (cur[0] <= uid) return;
    const prev = this.r[i - 1];
    if (prev && prev[1] + 1 === uid) {
      prev[1] = uid;
      if (cur[0] === uid + 1) { prev[1] = cur[1]; this.r.splice(i, 1); }
    } else if (cur[0] === uid + 1) {
      cur[0] = uid;
    } else {
      this.r.splice(i, 0, [uid, uid]);
    }
  }

  delete(uid) {
    const i = this._find(uid);
    const cur = this.r[i];
    if (!cur || cur[0] > uid) return false;
    if (cur[0] === cur[1]) this.r.splice(i, 1);
    else if (cur[0] === uid) cur[0]++;
    else if (cur[1] === uid) cur[1]--;
    else this.r.splice(i, 1, [cur[0], uid - 1], [uid + 1, cur[1]]);
    return true;
  }

  /** The UIDs up to `max`, ascending. */
  upTo(max) {
    const out = [];
    for (const [lo, hi] of this.r) {
      if (lo > max) break;
      for (let u = lo; u <= Math.min(hi, max); u++) out.push(u);
    }
    return out;
  }

  toString() {
    return this.r.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}:${hi}`)).join(',');
  }
}

/** The hash field's JSON -> the state in memory (uids as UidRanges, or null when the state predates them). */
function readState(json) {
  const { uidValidity, lastUid, highestModseq = null, uids } = JSON.parse(json);
  return { uidValidity, lastUid, highestModseq, uids: typeof uids === 'string' ? UidRanges.parse(uids) : null };
}

function writeState(st) {
  return JSON.stringify({ uidValidity: st.uidValidity, lastUid: st.lastUid, highestModseq: st.highestModseq ?? null,
    ...(st.uids ? { uids: st.uids.toString() } : {}) });
}

module.exports = { UidRanges, readState, writeState };
