// DriftLock console UI: plain JavaScript, no build step. This file holds the
// shared helpers, the live stream, the SVG charts and the routing; list.js
// the incident list, pages.js the incident, anomaly and stream pages.
// Routes: #/ (live incident list), #/incident/<id>, #/anomaly/<id>,
// #/streams, #/stream/<key>.
'use strict';

const state = {
  incidents: [],      // incidents shown in the list, most recently updated first
  open: new Set(),    // incident ids expanded in the list
  records: new Map(), // incident id -> its records (oldest first), loaded when expanded
  lastSeq: 0,         // newest sequence seen, the live stream's resume point
  total: 0,           // incidents held that match the filters
  filters: { service: '', signal: '', kind: '', min_confidence: '' },
  streams: [],
  status: null,       // the last /api/v1/status answer
  seen: new Set(),    // anomaly ids already counted, so a replay after a console restart adds nothing twice
  es: null,
};
const MAX_ROWS = 500;

// h builds an element: h('td', {class: 'x', onclick: fn}, child, ...).
function h(tag, attrs, ...children) {
  const svg = ['svg', 'line', 'polyline', 'circle', 'text', 'g', 'title', 'rect', 'path'].includes(tag);
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'style') Object.assign(el.style, v);
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

async function api(path) {
  const resp = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (resp.status === 401) { location.href = '/login'; throw new Error('unauthorised'); }
  const body = await resp.json();
  if (!resp.ok) throw new Error(body.error || resp.statusText);
  return body;
}

const pct = (c) => (100 * c).toFixed(c >= 0.999 && c < 1 ? 2 : 1) + '%';
const severity = (c) => (c >= 0.99 ? 'critical' : 'warning');
const enc = encodeURIComponent;

function fmtTime(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return { clock: iso || '–', ago: '' };
  const p = (n) => String(n).padStart(2, '0');
  const clock = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  const day = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  const s = Math.round((Date.now() - d) / 1000);
  const ago = s < 60 ? `${Math.max(s, 0)}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago`
    : s < 86400 ? `${Math.round(s / 3600)}h ago` : day;
  return { clock, ago, day, full: d.toISOString() };
}

// fmtNum renders a metric value compactly: 1.23M, 45.6k, 0.0123.
function fmtNum(v) {
  const a = Math.abs(v);
  if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 1 : 2) + 'M';
  if (a >= 1e4) return (v / 1e3).toFixed(a >= 1e5 ? 0 : 1) + 'k';
  return String(Number(v.toPrecision(4)));
}

function confidence(c) {
  return h('div', { class: 'conf ' + severity(c) },
    h('div', { class: 'bar' }, h('b', { style: { width: Math.max(2, 100 * c) + '%' } })), pct(c));
}

const signalBadge = (s) => h('span', { class: 'badge sig-' + s }, s);
const kindBadge = (k) => h('span', { class: 'badge kind-' + (k || 'window'), title: k === 'event' ? 'raised from one event or the onset of a burst' : 'a window unlike its baseline' }, k || 'window');

function setConn(cls, text) {
  const el = document.getElementById('conn');
  el.className = 'conn ' + cls;
  el.lastElementChild.textContent = text;
}

// ---- live stream ----

function connect() {
  if (state.es) state.es.close();
  const es = new EventSource('/api/v1/stream?last_event_id=' + state.lastSeq);
  state.es = es;
  setConn('connecting', 'connecting');
  es.onopen = () => setConn('live', 'live');
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) {
      setConn('offline', 'offline · retrying');
      setTimeout(() => { if (state.es === es) connect(); }, 5000);
    } else {
      setConn('reconnecting', 'reconnecting');
    }
  };
  es.addEventListener('anomaly', (ev) => {
    const item = JSON.parse(ev.data);
    if (item.sequence <= state.lastSeq) return;
    state.lastSeq = item.sequence;
    onLive(item);
  });
}

function onLive(item) {
  if (state.seen.has(item.id)) return;
  if (state.seen.size > 50000) state.seen.clear();
  state.seen.add(item.id);
  updateStreamFromItem(item);
  liveIncident(item); // list.js: updates the incident list when it is shown
  renderStreamsPanel();
  refreshStatus();
}

// refreshAges keeps the "… ago" labels current.
function refreshAges() {
  document.querySelectorAll('[data-time]').forEach((el) => { el.textContent = fmtTime(el.dataset.time).ago; });
}

function updateStreamFromItem(item) {
  let s = state.streams.find((x) => x.key === item.stream.key);
  if (!s) {
    s = { key: item.stream.key, service: item.stream.service, signal: item.stream.signal, metric: item.stream.metric, anomaly_count: 0 };
    state.streams.push(s);
  }
  s.anomaly_count++;
  s.latest_anomaly_id = item.id;
  s.latest_anomaly_at = item.window.end;
  s.latest_scores = item.scores;
  state.streams.sort((a, b) => (b.latest_anomaly_at || '').localeCompare(a.latest_anomaly_at || ''));
}

// refreshStatus reloads the counts at the top, at most once a second.
let statusTimer = null;
function refreshStatus() {
  if (statusTimer) return;
  statusTimer = setTimeout(async () => {
    statusTimer = null;
    try { state.status = await api('/api/v1/status'); } catch (e) { return; }
    renderCounts();
  }, 1000);
}

function renderCounts() {
  const st = state.status;
  if (!st) return;
  document.getElementById('counts').textContent = `${st.incidents} incidents · ${st.retained} anomalies · ${st.streams} streams`;
}

// ---- charts ----

// mountChart draws a chart into container at its current width: draw(W).
function mountChart(container, draw) {
  const width = Math.max(320, (container.clientWidth || 1000) - 24);
  container.replaceChildren(draw(width));
}

// niceTicks returns about n round values covering [lo, hi].
function niceTicks(lo, hi, n) {
  const raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = mag * ([1, 2, 5, 10].find((m) => m * mag >= raw) || 10);
  const out = [];
  for (let v = Math.floor(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  if (out[out.length - 1] < hi) out.push(out[out.length - 1] + step);
  return out;
}

// axisTimes labels the x axis of a chart with clock times.
function axisTimes(g, x, t0, t1, W, H) {
  const ticks = Math.max(2, Math.min(6, Math.floor(W / 160)));
  for (let i = 0; i <= ticks; i++) {
    const t = t0 + ((t1 - t0) * i) / ticks;
    const anchor = i === 0 ? 'start' : i === ticks ? 'end' : 'middle';
    g.append(h('text', { x: x(t), y: H - 8, 'text-anchor': anchor }, fmtTime(new Date(t).toISOString()).clock));
  }
}

// seriesChart draws a metric's recent values as SVG: the values as a line,
// the anomalous ones as red points, the triggering event as a dashed line.
function seriesChart(series, trigger, W) {
  const H = 240, L = 56, R = 16, T = 14, B = 26;
  const svg = h('svg', { class: 'chart series', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': 'recent values' });
  const ts = series.map((p) => Date.parse(p.timestamp));
  const byTime = ts.every(Number.isFinite) && ts[ts.length - 1] > ts[0];
  const xs = byTime ? ts : series.map((p) => p.offset);
  let x0 = Math.min(...xs), x1 = Math.max(...xs);
  if (x1 === x0) { x0 -= 1; x1 += 1; }
  const vals = series.map((p) => p.value);
  let lo = Math.min(...vals), hi = Math.max(...vals);
  if (hi === lo) { lo -= 1; hi += 1; }
  const ticks = niceTicks(lo, hi, 5);
  lo = Math.min(lo, ticks[0]); hi = Math.max(hi, ticks[ticks.length - 1]);
  const x = (v) => L + ((v - x0) / (x1 - x0)) * (W - L - R);
  const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  const grid = h('g', { class: 'grid' });
  ticks.forEach((v) => grid.append(h('line', { x1: L, x2: W - R, y1: y(v), y2: y(v) }),
    h('text', { x: L - 6, y: y(v) + 3, 'text-anchor': 'end' }, fmtNum(v))));
  if (byTime) axisTimes(grid, x, x0, x1, W, H);
  svg.append(grid);
  const at = series.findIndex((p) => p.offset === trigger);
  if (at >= 0) svg.append(h('line', { class: 'trig', x1: x(xs[at]), x2: x(xs[at]), y1: T, y2: H - B }));
  svg.append(h('polyline', { class: 'vals', points: series.map((p, i) => `${x(xs[i])},${y(p.value)}`).join(' ') }));
  series.forEach((p, i) => {
    if (!p.anomalous) return;
    svg.append(h('circle', { class: 'anom', cx: x(xs[i]), cy: y(p.value), r: 4.5 },
      h('title', {}, `${fmtNum(p.value)} at ${p.timestamp} (offset ${p.offset})`)));
  });
  return svg;
}

function seriesLegend() {
  return h('div', { class: 'legend' },
    h('span', {}, h('i', { style: { background: '#38bdf8' } }), 'value'),
    h('span', {}, h('i', { style: { background: '#f43f5e', height: '8px', width: '8px', borderRadius: '50%' } }), 'anomalous value'),
    h('span', {}, h('i', { style: { background: '#f97316' } }), 'triggering event'));
}

function legend() {
  return h('div', { class: 'legend' },
    h('span', {}, h('i', { style: { background: '#38bdf8' } }), 'confidence'),
    h('span', {}, h('i', { style: { background: '#a78bfa' } }), 'NCD'),
    h('span', {}, h('i', { style: { background: '#f59e0b' } }), 'threshold'),
    h('span', {}, h('i', { style: { background: '#f43f5e', height: '8px', width: '8px', borderRadius: '50%' } }), 'window anomaly'),
    h('span', {}, h('i', { style: { background: '#2dd4bf', height: '8px', width: '8px', borderRadius: '50%' } }), 'event anomaly'));
}

// timelineChart draws confidence (and the NCD of window anomalies) per
// anomaly over time as SVG.
function timelineChart(points, selected, W) {
  if (!points.length) return h('div', { class: 'empty' }, 'No anomalies held for this stream.');
  const H = 220, L = 48, R = 16, T = 12, B = 26;
  const svg = h('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img' });
  const ts = points.map((p) => Date.parse(p.time));
  let t0 = Math.min(...ts), t1 = Math.max(...ts);
  if (t1 - t0 < 60000) { t0 -= 30000; t1 += 30000; }
  const pad = (t1 - t0) * 0.03; t0 -= pad; t1 += pad;
  const windows = points.filter((p) => p.kind !== 'event');
  const min = Math.min(...points.map((p) => Math.min(p.confidence, p.threshold || 1)), ...windows.map((p) => p.ncd));
  const step = 1 - min > 0.3 ? 0.1 : 0.05;
  const lo = Math.max(0, Math.floor(min / step - 0.5) * step);
  const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const y = (v) => T + (1 - (v - lo) / (1 - lo)) * (H - T - B);
  const grid = h('g', { class: 'grid' });
  for (let v = 1; v >= lo - 1e-9; v -= step) {
    grid.append(h('line', { x1: L, x2: W - R, y1: y(v), y2: y(v) }), h('text', { x: L - 6, y: y(v) + 3, 'text-anchor': 'end' }, Math.round(100 * v) + '%'));
  }
  axisTimes(grid, x, t0, t1, W, H);
  svg.append(grid);
  const thr = points[points.length - 1].threshold;
  if (thr) svg.append(h('line', { class: 'thr', x1: L, x2: W - R, y1: y(thr), y2: y(thr) }));
  svg.append(h('polyline', { class: 'ncd', points: windows.map((p) => `${x(Date.parse(p.time))},${y(Math.max(p.ncd, lo))}`).join(' ') }));
  svg.append(h('polyline', { class: 'line', points: points.map((p, i) => `${x(ts[i])},${y(p.confidence)}`).join(' ') }));
  points.forEach((p, i) => {
    const cls = [p.kind === 'event' ? 'ev' : '', p.id === selected ? 'sel' : ''].join(' ').trim();
    svg.append(h('circle', { cx: x(ts[i]), cy: y(p.confidence), r: p.id === selected ? 6 : 4, class: cls || null,
      onclick: () => { location.hash = '#/anomaly/' + enc(p.id); } },
    h('title', {}, `${fmtTime(p.time).full} · ${p.kind || 'window'} · ${pct(p.confidence)}\n${p.explanation}`)));
  });
  return svg;
}

// ---- routing ----

async function route() {
  const hash = location.hash || '#/';
  const [, name, arg] = hash.match(/^#\/([^/]*)\/?(.*)$/) || [];
  document.getElementById('nav-incidents').classList.toggle('active', !name || name === 'incident' || name === 'anomaly');
  document.getElementById('nav-streams').classList.toggle('active', name === 'streams' || name === 'stream');
  try {
    if (name === 'anomaly') await viewAnomaly(decodeURIComponent(arg));
    else if (name === 'incident') await viewIncident(decodeURIComponent(arg));
    else if (name === 'streams') await viewStreams();
    else if (name === 'stream') await viewStream(decodeURIComponent(arg));
    else await viewList();
  } catch (e) {
    document.getElementById('view').replaceChildren(h('p', { class: 'error' }, 'Could not load: ' + e.message));
  }
}

window.addEventListener('hashchange', route);
document.addEventListener('DOMContentLoaded', async () => {
  try {
    state.status = await api('/api/v1/status');
    state.lastSeq = state.status.latest_sequence;
    renderCounts();
  } catch (e) { /* route() reports errors */ }
  await route();
  connect();
  setInterval(refreshAges, 15000);
});
