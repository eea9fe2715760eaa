// DriftLock console UI: the incident page (#/incident/<id>), the anomaly
// page (#/anomaly/<id>) and the stream pages (#/streams, #/stream/<key>).
'use strict';

const kv = (pairs) => h('dl', { class: 'kv' }, pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]));
const back = (msg) => [h('p', { class: 'crumbs' }, h('a', { href: '#/' }, '← Incidents')), h('p', { class: 'error' }, msg)];
const panel = (title, note, ...body) => h('section', { class: 'panel', style: { marginTop: '14px' } }, h('h2', {}, title, note), ...body);
// show puts the nodes given (skipping empty ones) into the view.
const show = (...nodes) => document.getElementById('view').replaceChildren(...nodes.filter(Boolean));
const isMetricEvent = (a) => a.kind === 'event' && a.series && a.series.length > 0;
const trigger = (a) => (a.evidence && a.evidence.length ? a.evidence[0].offset : null);

// seriesPanel charts a metric event anomaly's recent values.
function seriesPanel(a, note) {
  const body = h('div', { class: 'body', id: 'series' });
  const sec = h('section', { class: 'panel', style: { marginBottom: '14px' } }, h('h2', {}, 'Values', h('span', {}, note)), body, seriesLegend());
  setTimeout(() => mountChart(body, (W) => seriesChart(a.series, trigger(a), W)), 0); // once body is in the page
  return sec;
}

// ---- incident view ----

async function viewIncident(id) {
  const view = document.getElementById('view');
  let res;
  try { res = await api('/api/v1/incidents/' + enc(id)); } catch (e) { view.replaceChildren(...back(e.message)); return; }
  const inc = res.incident, recs = res.anomalies;
  const c = inc.max_confidence, sev = severity(c);
  const from = fmtTime(inc.start), to = fmtTime(inc.end);
  const metric = [...recs].reverse().find(isMetricEvent);
  show(
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, '← Incidents'), ' / ',
      h('a', { href: '#/stream/' + enc(inc.stream.key) }, inc.stream.key)),
    h('div', { class: 'head' }, h('h1', {}, inc.stream.service), signalBadge(inc.stream.signal),
      inc.stream.metric ? h('span', { class: 'mono' }, inc.stream.metric) : null, kinds(inc.kinds),
      h('span', { class: 'muted', title: `${from.full} – ${to.full}` }, `${from.day} ${from.clock} – ${to.clock} (${to.ago}) · ${inc.records} records`),
      h('span', { class: 'spacer' }), h('span', { class: 'badge sev-' + sev }, sev), h('span', { class: 'big ' + sev, title: 'highest confidence' }, pct(c))),
    h('p', { class: 'explain', id: 'explanation' }, inc.latest_explanation || 'No explanation.'),
    metric ? seriesPanel(metric, `record ${metric.id}`) : null,
    h('section', { class: 'panel' }, h('h2', {}, 'Records', h('span', {}, 'oldest first')),
      h('table', { id: 'incident-records' }, recordHead(), h('tbody', {}, recs.map(recordRow)))),
    h('p', { class: 'muted mono', style: { marginTop: '10px' } }, 'incident ' + inc.id));
}

// ---- anomaly view ----

async function viewAnomaly(id) {
  const view = document.getElementById('view');
  let a;
  try { a = await api('/api/v1/anomalies/' + enc(id)); } catch (e) { view.replaceChildren(...back(e.message)); return; }
  const c = a.scores.confidence, sev = severity(c), ev = a.kind === 'event';
  const t = fmtTime(ev && a.evidence.length ? a.evidence[0].timestamp : a.window.end);
  const chart = h('div', { class: 'body' }, h('span', { class: 'muted' }, 'loading…'));
  show(
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, '← Incidents'), ' / ',
      h('a', { href: '#/incident/' + enc(a.incident), class: 'open-incident' }, 'incident'), ' / ',
      h('a', { href: '#/stream/' + enc(a.stream.key) }, a.stream.key)),
    h('div', { class: 'head' }, h('h1', {}, a.stream.service), signalBadge(a.stream.signal), kindBadge(a.kind),
      a.stream.metric ? h('span', { class: 'mono' }, a.stream.metric) : null,
      h('span', { class: 'muted', title: t.full }, `${ev ? 'triggered' : 'window ended'} ${t.day} ${t.clock} (${t.ago})`), h('span', { class: 'spacer' }),
      h('span', { class: 'badge sev-' + sev }, sev), h('span', { class: 'big ' + sev, title: 'confidence' }, pct(c))),
    h('p', { class: 'explain', id: 'explanation' }, a.explanation || 'No explanation.'),
    isMetricEvent(a) ? seriesPanel(a, `${a.series.length} latest values up to the triggering event`) : null,
    h('div', { class: 'grid2' },
      h('section', { class: 'panel' }, h('h2', {}, 'Scores'), h('div', { class: 'body' }, kv(scorePairs(a)))),
      h('section', { class: 'panel' }, h('h2', {}, ev ? 'Events looked at' : 'Window'), h('div', { class: 'body' }, kv([
        ['start', a.window.start], ['end', a.window.end], ['events', a.window.events],
        ['partition', a.window.partition], ['offsets', `${a.window.first_offset} – ${a.window.last_offset}`],
        ['detected at', a.detected_at], ['detector', `${a.detector.version} · seed ${a.detector.seed}`],
        ['incident', a.incident], ['id', a.id]])))),
    ev && a.stream.signal === 'log' ? burstPanel(a.evidence || [])
      : h('section', { class: 'panel evidence', id: 'evidence' }, h('h2', {}, 'Evidence',
        h('span', {}, ev ? 'from the event that triggered it' : 'events that most raised the compressed size')), evidenceTable(a.evidence || [])),
    panel('Stream timeline', h('a', { class: 'open-stream', href: '#/stream/' + enc(a.stream.key) }, 'open stream'), chart),
    h('details', { style: { marginTop: '14px' } }, h('summary', {}, 'Raw record'), h('pre', {}, JSON.stringify(a, null, 2))));
  try {
    const tl = await api(`/api/v1/streams/${enc(a.stream.key)}/timeline`);
    mountChart(chart, (W) => timelineChart(tl.points, a.id, W));
    chart.after(legend());
  } catch (e) { chart.replaceChildren(h('span', { class: 'error' }, e.message)); }
}

// scorePairs lists the scores a record has: window records their
// compression scores, event records the event's own score.
function scorePairs(a) {
  const s = a.scores;
  const out = [['confidence', pct(s.confidence)], ['threshold', pct(a.threshold)]];
  const opt = [['event score', s.event, (v) => v.toFixed(3)], ['p-value', s.p_value, (v) => v.toPrecision(3)],
    ['NCD', s.ncd, (v) => v.toFixed(4)], ['baseline ratio', s.baseline_ratio, (v) => v.toFixed(4)],
    ['window ratio', s.window_ratio, (v) => v.toFixed(4)], ['baseline entropy', s.baseline_entropy, (v) => v.toFixed(3)],
    ['window entropy', s.window_entropy, (v) => v.toFixed(3)]];
  for (const [k, v, f] of opt) if (typeof v === 'number') out.push([k, f(v)]);
  return out;
}

function evidenceTable(ev) {
  if (!ev.length) return h('div', { class: 'empty' }, 'No evidence recorded.');
  return h('table', {}, h('thead', {}, h('tr', {}, ['Offset', 'Timestamp', 'Score', 'Event'].map((c) => h('th', {}, c)))),
    h('tbody', {}, ev.map((e) => h('tr', {},
      h('td', { class: 'num' }, e.offset), h('td', { class: 'num' }, e.timestamp),
      h('td', { class: 'num' }, Number(e.score).toFixed(3)), h('td', { class: 'sum' }, e.summary)))));
}

// burstPanel shows a log event anomaly's evidence as the burst's lines, in
// offset order, the triggering line marked.
function burstPanel(ev) {
  const first = ev.length ? ev[0].offset : null;
  const lines = [...ev].sort((x, y) => x.offset - y.offset);
  return h('section', { class: 'panel evidence burst', id: 'evidence' },
    h('h2', {}, 'Burst', h('span', {}, `${lines.length} lines in offset order · ▶ triggered the anomaly`)),
    lines.length ? h('div', { class: 'lines' }, lines.map((e) => h('div', { class: 'line' + (e.offset === first ? ' trigger' : ''), title: `score ${Number(e.score).toFixed(3)}` },
      h('span', { class: 'off' }, (e.offset === first ? '▶ ' : '') + e.offset), h('span', { class: 'ts', title: e.timestamp }, clockMs(e.timestamp)),
      h('span', { class: 'sum' }, e.summary))))
      : h('div', { class: 'empty' }, 'No lines recorded.'));
}

// clockMs is a timestamp's local clock time with milliseconds.
function clockMs(iso) {
  const d = new Date(iso);
  return isNaN(d) ? iso : fmtTime(iso).clock + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

// ---- records (incident and stream pages) ----

const recordHead = () => h('thead', {}, h('tr', {}, ['Time', 'Kind', 'Events', 'Confidence', 'Explanation'].map((c) => h('th', {}, c))));

function recordRow(item) {
  const t = fmtTime(item.window.end);
  return h('tr', { class: 'row', 'data-id': item.id, onclick: () => { location.hash = '#/anomaly/' + enc(item.id); } },
    h('td', { class: 'time', title: t.full }, t.clock, h('small', { 'data-time': item.window.end }, t.ago)),
    h('td', {}, kindBadge(item.kind)), h('td', { class: 'num' }, item.window.events),
    h('td', {}, confidence(item.scores.confidence)),
    h('td', { class: 'expl' }, h('div', { title: item.explanation }, item.explanation)));
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
    panel('Anomalies', h('span', {}, 'newest first'), h('table', {}, recordHead(), h('tbody', {}, list.anomalies.map(recordRow)))));
  mountChart(chart, (W) => timelineChart(tl.points, null, W));
}
