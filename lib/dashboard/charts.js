// Browser code, inlined into dashboard.html by lib/dashboard-page.js (one
// script, admitted by its CSP hash). The three small charts, drawn as inline
// SVG: nothing is fetched from anywhere else. Values reach the DOM only as
// numbers in attributes or as textContent.

const SVG_NS = 'http://www.w3.org/2000/svg';
const STATE_COLORS = {
  idle: '#2da44e', connected: '#7bc96f', authenticated: '#7bc96f', authenticating: '#e3b341', connecting: '#e3b341',
  disconnected: '#cf222e', error: '#82071e',
};

function svgEl(name, attrs, parent) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (parent) parent.appendChild(el);
  return el;
}

function tooltip(el, text) {
  svgEl('title', {}, el).textContent = text;
}

// A chart's SVG scales to its box (viewBox), so it never widens a phone's page.
function freshSvg(host, width, height) {
  host.replaceChildren();
  return svgEl('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img' }, host);
}

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Push latency samples ({ at, ms }), oldest first, as dots on a line. */
function drawLatency(host, caption, samples) {
  const W = 300;
  const H = 80;
  const svg = freshSvg(host, W, H);
  svg.dataset.samples = String(samples.length);
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  if (samples.length === 0) {
    caption.textContent = 'no pushed messages yet';
    return;
  }
  const max = Math.max(1, sorted[sorted.length - 1]);
  const x = (i) => (samples.length === 1 ? W / 2 : 4 + (i * (W - 8)) / (samples.length - 1));
  const y = (ms) => H - 4 - (ms / max) * (H - 8);
  svgEl('polyline', { points: samples.map((s, i) => `${x(i).toFixed(1)},${y(s.ms).toFixed(1)}`).join(' '), fill: 'none', stroke: '#8fb8ef', 'stroke-width': 1 }, svg);
  samples.forEach((s, i) => {
    const dot = svgEl('circle', { class: 'sample', cx: x(i).toFixed(1), cy: y(s.ms).toFixed(1), r: 2.5, fill: '#0969da', 'data-ms': s.ms }, svg);
    tooltip(dot, `${s.ms.toFixed(1)} ms`);
  });
  caption.textContent = `p50 ${quantile(sorted, 0.5).toFixed(1)} ms · p95 ${quantile(sorted, 0.95).toFixed(1)} ms · max ${max.toFixed(1)} ms · ${samples.length} pushes`;
}

/** Events per minute ({ at, count }), oldest first, as bars. */
function drawRate(host, caption, minutes) {
  const W = 300;
  const H = 80;
  const svg = freshSvg(host, W, H);
  const peak = Math.max(0, ...minutes.map((m) => m.count));
  const max = Math.max(1, peak);
  const w = W / Math.max(1, minutes.length);
  minutes.forEach((m, i) => {
    const h = (m.count / max) * (H - 4);
    const bar = svgEl('rect', { class: 'bar', x: (i * w + 0.5).toFixed(1), y: (H - h).toFixed(1), width: Math.max(1, w - 1).toFixed(1), height: h.toFixed(1), fill: '#8250df', 'data-count': m.count }, svg);
    tooltip(bar, `${new Date(m.at).toLocaleTimeString()}: ${m.count}`);
  });
  const last = minutes.length ? minutes[minutes.length - 1].count : 0;
  caption.textContent = `${last} this minute · peak ${peak} · last ${minutes.length} min`;
}

/**
 * One lane per account and folder: the state it was in over the window, from
 * its transitions ({ at, state }, oldest first); the state before the first
 * one seen is unknown and left blank.
 */
function drawTimeline(host, lanes, from, to) {
  host.replaceChildren();
  const W = 300;
  const H = 12;
  for (const lane of lanes) {
    const row = document.createElement('div');
    row.className = 'lane';
    row.dataset.key = lane.key;
    const label = document.createElement('bdi');
    label.className = 'lane-label';
    label.textContent = lane.label;
    row.appendChild(label);
    const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none' }, row);
    const x = (t) => ((Math.min(Math.max(t, from), to) - from) / Math.max(1, to - from)) * W;
    lane.states.forEach((s, i) => {
      const end = i + 1 < lane.states.length ? lane.states[i + 1].at : to;
      if (end < from) return;
      const seg = svgEl('rect', { class: 'seg', x: x(s.at).toFixed(2), y: 0, width: Math.max(0.5, x(end) - x(s.at)).toFixed(2), height: H, fill: STATE_COLORS[s.state] || '#999', 'data-state': s.state }, svg);
      tooltip(seg, `${new Date(s.at).toLocaleTimeString()} ${s.state}`);
    });
    host.appendChild(row);
  }
  if (lanes.length === 0) {
    const none = document.createElement('div');
    none.className = 'muted';
    none.textContent = 'no connections yet';
    host.appendChild(none);
  }
}
