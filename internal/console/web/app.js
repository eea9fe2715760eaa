// DriftLock console UI: plain JavaScript, no build step.
// Routes: #/ (live anomaly list), #/anomaly/<id>, #/streams, #/stream/<key>.
'use strict';

const state = {
  items: [],          // anomalies shown in the list, newest first
  lastSeq: 0,         // newest sequence seen, the live stream's resume point
  total: 0,           // anomalies held that match the filters
  filters: { service: '', signal: '', min_confidence: '' },
  streams: [],
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

function confidence(c) {
  return h('div', { class: 'conf ' + severity(c) },
    h('div', { class: 'bar' }, h('b', { style: { width: Math.max(2, 100 * c) + '%' } })), pct(c));
}

const signalBadge = (s) => h('span', { class: 'badge sig-' + s }, s);

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

function matches(item) {
  const f = state.filters;
  return (!f.service || item.stream.service === f.service) &&
    (!f.signal || item.stream.signal === f.signal) &&
    (!f.min_confidence || item.scores.confidence >= Number(f.min_confidence));
}

function onLive(item) {
  if (state.seen.has(item.id)) return;
  if (state.seen.size > 50000) state.seen.clear();
  state.seen.add(item.id);
  updateStreamFromItem(item);
  const tbody = document.getElementById('rows');
  if (tbody && matches(item)) {
    state.items.unshift(item);
    if (state.items.length > MAX_ROWS) state.items.pop();
    document.getElementById('empty')?.remove();
    const tr = row(item);
    tr.classList.add('fresh');
    tbody.prepend(tr);
    while (tbody.children.length > MAX_ROWS) tbody.lastElementChild.remove();
    state.total++;
    showCount();
  }
  renderStreamsPanel();
  renderCounts();
}

function showCount() {
  const el = document.getElementById('shown');
  if (el) el.textContent = state.total > state.items.length ? `${state.items.length} shown of ${state.total}` : `${state.items.length} shown`;
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

function renderCounts() {
  const n = state.streams.reduce((a, s) => a + s.anomaly_count, 0);
  document.getElementById('counts').textContent = `${n} anomalies · ${state.streams.length} streams`;
}

// ---- list view ----

function row(item) {
  const t = fmtTime(item.window.end);
  const sub = item.stream.metric || item.stream.key;
  return h('tr', { class: 'row', 'data-id': item.id, onclick: () => { location.hash = '#/anomaly/' + enc(item.id); } },
    h('td', { class: 'time', title: t.full }, t.clock, h('small', { 'data-time': item.window.end }, t.ago)),
    h('td', { class: 'svc' }, item.stream.service, h('small', {}, sub)),
    h('td', {}, signalBadge(item.stream.signal)),
    h('td', {}, confidence(item.scores.confidence)),
    h('td', { class: 'expl' }, h('div', { title: item.explanation }, item.explanation)));
}

const listHead = () => h('thead', {}, h('tr', {}, ['Time', 'Service', 'Signal', 'Confidence', 'Explanation'].map((c) => h('th', {}, c))));

function filterBar(onChange) {
  const f = state.filters;
  const services = [...new Set(state.streams.map((s) => s.service))].sort();
  const svc = h('select', { id: 'f-service' }, h('option', { value: '' }, 'all services'),
    services.map((s) => h('option', { value: s, selected: s === f.service ? '' : false }, s)));
  const sig = h('select', { id: 'f-signal' }, ['', 'log', 'metric', 'span'].map((s) =>
    h('option', { value: s, selected: s === f.signal ? '' : false }, s || 'all signals')));
  const conf = h('select', { id: 'f-conf' }, [['', 'any'], ['0.9', '≥ 90%'], ['0.95', '≥ 95%'], ['0.99', '≥ 99%'], ['0.999', '≥ 99.9%']]
    .map(([v, l]) => h('option', { value: v, selected: v === f.min_confidence ? '' : false }, l)));
  const changed = () => { f.service = svc.value; f.signal = sig.value; f.min_confidence = conf.value; onChange(); };
  [svc, sig, conf].forEach((el) => el.addEventListener('change', changed));
  return h('div', { class: 'filters' },
    h('label', {}, 'Service', svc), h('label', {}, 'Signal', sig), h('label', {}, 'Min confidence', conf),
    h('span', { class: 'spacer' }), h('span', { id: 'shown', class: 'muted' }));
}

function query() {
  const q = new URLSearchParams({ limit: String(MAX_ROWS) });
  for (const [k, v] of Object.entries(state.filters)) if (v) q.set(k, v);
  return q.toString();
}

async function viewList() {
  const view = document.getElementById('view');
  const render = async () => {
    const [list] = await Promise.all([api('/api/v1/anomalies?' + query()), loadStreams()]);
    state.items = list.anomalies;
    state.items.forEach((it) => state.seen.add(it.id));
    state.lastSeq = Math.max(state.lastSeq, list.latest_sequence);
    const tbody = h('tbody', { id: 'rows' }, state.items.map(row));
    const table = h('table', {}, listHead(), tbody);
    const empty = state.items.length ? null : h('div', { class: 'empty', id: 'empty' }, 'No anomalies yet. New ones appear here as they are detected.');
    view.replaceChildren(filterBar(render),
      h('div', { class: 'layout' },
        h('section', { class: 'panel' }, h('h2', {}, 'Anomalies', h('span', { class: 'muted' }, 'newest first · live')), table, empty),
        h('aside', { class: 'panel' }, h('h2', {}, 'Streams', h('span', {}, '')), h('ul', { class: 'streams', id: 'streams' }))));
    state.total = list.total;
    showCount();
    renderStreamsPanel();
    renderCounts();
  };
  await render();
}

async function loadStreams() {
  state.streams = (await api('/api/v1/streams')).streams;
}

function renderStreamsPanel() {
  const ul = document.getElementById('streams');
  if (!ul) return;
  ul.replaceChildren(...state.streams.slice(0, 40).map(streamItem));
  if (!state.streams.length) ul.append(h('li', { class: 'muted' }, 'No streams with anomalies.'));
}

function streamItem(s) {
  const t = fmtTime(s.latest_anomaly_at);
  const c = s.latest_scores ? s.latest_scores.confidence : 0;
  return h('li', { onclick: () => { location.hash = '#/stream/' + enc(s.key); } },
    h('span', { class: 'k', title: s.key }, s.service, ' ', h('span', { class: 'muted' }, s.metric || '')),
    h('span', { class: 'n', title: 'anomalies' }, s.anomaly_count),
    h('span', { class: 's' }, signalBadge(s.signal), 'last ' + t.ago, h('span', { class: 'conf ' + severity(c) }, pct(c))));
}

// ---- anomaly view ----

async function viewAnomaly(id) {
  const view = document.getElementById('view');
  let a;
  try { a = await api('/api/v1/anomalies/' + enc(id)); } catch (e) {
    view.replaceChildren(h('p', { class: 'crumbs' }, h('a', { href: '#/' }, '← Anomalies')), h('p', { class: 'error' }, e.message));
    return;
  }
  const c = a.scores.confidence, sev = severity(c);
  const t = fmtTime(a.window.end);
  const chart = h('div', { class: 'body' }, h('span', { class: 'muted' }, 'loading…'));
  view.replaceChildren(
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, '← Anomalies'), ' / ',
      h('a', { href: '#/stream/' + enc(a.stream.key) }, a.stream.key)),
    h('div', { class: 'head' }, h('h1', {}, a.stream.service), signalBadge(a.stream.signal),
      a.stream.metric ? h('span', { class: 'mono' }, a.stream.metric) : null,
      h('span', { class: 'muted', title: t.full }, `window ended ${t.day} ${t.clock} (${t.ago})`), h('span', { class: 'spacer' }),
      h('span', { class: 'badge sev-' + sev }, sev), h('span', { class: 'big ' + sev, title: 'confidence' }, pct(c))),
    h('p', { class: 'explain', id: 'explanation' }, a.explanation || 'No explanation.'),
    h('div', { class: 'grid2' },
      h('section', { class: 'panel' }, h('h2', {}, 'Scores'), h('div', { class: 'body' }, kv([
        ['confidence', pct(c)], ['threshold', pct(a.threshold)], ['p-value', a.scores.p_value.toPrecision(3)],
        ['NCD', a.scores.ncd.toFixed(4)], ['baseline ratio', a.scores.baseline_ratio.toFixed(4)],
        ['window ratio', a.scores.window_ratio.toFixed(4)], ['baseline entropy', a.scores.baseline_entropy.toFixed(3)],
        ['window entropy', a.scores.window_entropy.toFixed(3)]]))),
      h('section', { class: 'panel' }, h('h2', {}, 'Window'), h('div', { class: 'body' }, kv([
        ['start', a.window.start], ['end', a.window.end], ['events', a.window.events],
        ['partition', a.window.partition], ['offsets', `${a.window.first_offset} – ${a.window.last_offset}`],
        ['detected at', a.detected_at], ['detector', `${a.detector.version} · seed ${a.detector.seed}`],
        ['id', a.id]])))),
    h('section', { class: 'panel evidence', id: 'evidence' }, h('h2', {}, 'Evidence', h('span', {}, 'events that most raised the compressed size')),
      evidenceTable(a.evidence || [])),
    h('section', { class: 'panel', style: { marginTop: '14px' } }, h('h2', {}, 'Stream timeline', h('a', { class: 'open-stream', href: '#/stream/' + enc(a.stream.key) }, 'open stream')), chart),
    h('details', { style: { marginTop: '14px' } }, h('summary', {}, 'Raw record'), h('pre', {}, JSON.stringify(a, null, 2))));
  try {
    const tl = await api(`/api/v1/streams/${enc(a.stream.key)}/timeline`);
    mountChart(chart, tl.points, a.id);
    chart.after(legend());
  } catch (e) { chart.replaceChildren(h('span', { class: 'error' }, e.message)); }
}

const kv = (pairs) => h('dl', { class: 'kv' }, pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]));

function evidenceTable(ev) {
  if (!ev.length) return h('div', { class: 'empty' }, 'No evidence recorded.');
  return h('table', {}, h('thead', {}, h('tr', {}, ['Offset', 'Timestamp', 'Score', 'Event'].map((c) => h('th', {}, c)))),
    h('tbody', {}, ev.map((e) => h('tr', {},
      h('td', { class: 'num' }, e.offset), h('td', { class: 'num' }, e.timestamp),
      h('td', { class: 'num' }, Number(e.score).toFixed(3)), h('td', { class: 'sum' }, e.summary)))));
}

// ---- stream views ----

async function viewStreams() {
  await loadStreams();
  const view = document.getElementById('view');
  const rows = state.streams.map((s) => {
    const t = fmtTime(s.latest_anomaly_at);
    return h('tr', { class: 'row', onclick: () => { location.hash = '#/stream/' + enc(s.key); } },
      h('td', { class: 'svc' }, s.service, h('small', {}, s.key)), h('td', {}, signalBadge(s.signal)),
      h('td', { class: 'time' }, t.clock, h('small', {}, t.ago)), h('td', {}, confidence(s.latest_scores.confidence)),
      h('td', { class: 'mono' }, s.anomaly_count), h('td', { class: 'expl' }, h('div', {}, s.latest_explanation)));
  });
  view.replaceChildren(h('section', { class: 'panel' }, h('h2', {}, 'Streams', h('span', {}, 'latest anomaly first')),
    h('table', {}, h('thead', {}, h('tr', {}, ['Stream', 'Signal', 'Latest', 'Confidence', 'Anomalies', 'Latest explanation'].map((c) => h('th', {}, c)))),
      h('tbody', {}, rows)), rows.length ? null : h('div', { class: 'empty' }, 'No streams with anomalies yet.')));
  renderCounts();
}

async function viewStream(key) {
  const view = document.getElementById('view');
  const tl = await api(`/api/v1/streams/${enc(key)}/timeline`);
  const s = tl.stream;
  const list = await api(`/api/v1/streams/${enc(key)}/anomalies?limit=200`);
  const chart = h('div', { class: 'body', id: 'stream-chart' });
  view.replaceChildren(
    h('p', { class: 'crumbs' }, h('a', { href: '#/streams' }, '← Streams')),
    h('div', { class: 'head' }, h('h1', {}, s.service), signalBadge(s.signal), h('span', { class: 'muted mono' }, s.key),
      h('span', { class: 'spacer' }), h('span', { class: 'muted' }, `${s.anomaly_count} anomalies, ${s.retained} held`)),
    h('section', { class: 'panel' }, h('h2', {}, 'Confidence over time', h('span', {}, 'each point is an anomaly')),
      chart, legend()),
    h('section', { class: 'panel', style: { marginTop: '14px' } }, h('h2', {}, 'Anomalies', h('span', {}, 'newest first')),
      h('table', {}, listHead(), h('tbody', {}, list.anomalies.map(row)))));
  mountChart(chart, tl.points, null);
}

function legend() {
  return h('div', { class: 'legend' },
    h('span', {}, h('i', { style: { background: '#38bdf8' } }), 'confidence'),
    h('span', {}, h('i', { style: { background: '#a78bfa' } }), 'NCD'),
    h('span', {}, h('i', { style: { background: '#f59e0b' } }), 'threshold'),
    h('span', {}, h('i', { style: { background: '#f43f5e', height: '8px', width: '8px', borderRadius: '50%' } }), 'anomaly'));
}

// mountChart draws a timeline into container at its current width.
function mountChart(container, points, selected) {
  const width = Math.max(320, (container.clientWidth || 1000) - 24);
  container.replaceChildren(timelineChart(points, selected, width));
}

// timelineChart draws confidence (and NCD) per anomaly over time as SVG.
function timelineChart(points, selected, W) {
  if (!points.length) return h('div', { class: 'empty' }, 'No anomalies held for this stream.');
  const H = 220, L = 48, R = 16, T = 12, B = 26;
  const svg = h('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img' });
  const ts = points.map((p) => Date.parse(p.time));
  let t0 = Math.min(...ts), t1 = Math.max(...ts);
  if (t1 - t0 < 60000) { t0 -= 30000; t1 += 30000; }
  const pad = (t1 - t0) * 0.03; t0 -= pad; t1 += pad;
  const min = Math.min(...points.map((p) => Math.min(p.confidence, p.threshold || 1, p.ncd)));
  const step = 1 - min > 0.3 ? 0.1 : 0.05;
  const lo = Math.max(0, Math.floor(min / step - 0.5) * step);
  const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const y = (v) => T + (1 - (v - lo) / (1 - lo)) * (H - T - B);
  const grid = h('g', { class: 'grid' });
  for (let v = 1; v >= lo - 1e-9; v -= step) {
    grid.append(h('line', { x1: L, x2: W - R, y1: y(v), y2: y(v) }), h('text', { x: L - 6, y: y(v) + 3, 'text-anchor': 'end' }, Math.round(100 * v) + '%'));
  }
  const ticks = Math.max(2, Math.min(6, Math.floor(W / 160)));
  for (let i = 0; i <= ticks; i++) {
    const t = t0 + ((t1 - t0) * i) / ticks;
    const anchor = i === 0 ? 'start' : i === ticks ? 'end' : 'middle';
    grid.append(h('text', { x: x(t), y: H - 8, 'text-anchor': anchor }, fmtTime(new Date(t).toISOString()).clock));
  }
  svg.append(grid);
  const thr = points[points.length - 1].threshold;
  if (thr) svg.append(h('line', { class: 'thr', x1: L, x2: W - R, y1: y(thr), y2: y(thr) }));
  svg.append(h('polyline', { class: 'ncd', points: points.map((p, i) => `${x(ts[i])},${y(Math.max(p.ncd, lo))}`).join(' ') }));
  svg.append(h('polyline', { class: 'line', points: points.map((p, i) => `${x(ts[i])},${y(p.confidence)}`).join(' ') }));
  points.forEach((p, i) => {
    svg.append(h('circle', { cx: x(ts[i]), cy: y(p.confidence), r: p.id === selected ? 6 : 4, class: p.id === selected ? 'sel' : '',
      onclick: () => { location.hash = '#/anomaly/' + enc(p.id); } },
    h('title', {}, `${fmtTime(p.time).full} · ${pct(p.confidence)}\n${p.explanation}`)));
  });
  return svg;
}

// ---- routing ----

async function route() {
  const hash = location.hash || '#/';
  const [, name, arg] = hash.match(/^#\/([^/]*)\/?(.*)$/) || [];
  document.getElementById('nav-anomalies').classList.toggle('active', !name || name === 'anomaly');
  document.getElementById('nav-streams').classList.toggle('active', name === 'streams' || name === 'stream');
  try {
    if (name === 'anomaly') await viewAnomaly(decodeURIComponent(arg));
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
    const st = await api('/api/v1/status');
    state.lastSeq = st.latest_sequence;
  } catch (e) { /* route() reports errors */ }
  await route();
  connect();
  setInterval(refreshAges, 15000);
});
