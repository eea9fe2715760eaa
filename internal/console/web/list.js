// DriftLock console UI: the live incident list (#/). One row per incident,
// most recently updated first; a click expands it to its records.
'use strict';

function matches(item) {
  const f = state.filters;
  return (!f.service || item.stream.service === f.service) &&
    (!f.signal || item.stream.signal === f.signal) &&
    (!f.kind || item.kind === f.kind) &&
    (!f.min_confidence || item.scores.confidence >= Number(f.min_confidence));
}

// liveIncident folds a live anomaly into the incident list, if shown: its
// incident moves to the top, updated, or arrives as a new row.
async function liveIncident(item) {
  if (!document.getElementById('rows') || !matches(item)) return;
  const inc = state.incidents.find((x) => x.id === item.incident);
  let next;
  if (inc) {
    next = mergeRecord({ ...inc, kinds: [...inc.kinds], anomaly_ids: [...inc.anomaly_ids] }, item);
  } else {
    try { next = (await api('/api/v1/incidents/' + enc(item.incident))).incident; } catch (e) { next = mergeRecord(null, item); }
  }
  if (state.records.has(item.incident) && !state.records.get(item.incident).some((r) => r.id === item.id)) {
    state.records.get(item.incident).push(item);
  }
  upsertIncident(next);
}

// mergeRecord adds a record to an incident summary (a new one when inc is null).
function mergeRecord(inc, item) {
  inc = inc || { id: item.incident, stream: item.stream, kinds: [], start: item.window.start, end: item.window.end,
    records: 0, max_confidence: 0, anomaly_ids: [] };
  if (!inc.kinds.includes(item.kind)) inc.kinds = [...inc.kinds, item.kind].sort();
  if (Date.parse(item.window.start) < Date.parse(inc.start)) inc.start = item.window.start;
  if (Date.parse(item.window.end) > Date.parse(inc.end)) inc.end = item.window.end;
  inc.records++;
  inc.max_confidence = Math.max(inc.max_confidence, item.scores.confidence);
  inc.latest_anomaly_id = item.id;
  inc.latest_sequence = item.sequence;
  inc.latest_explanation = item.explanation;
  inc.threshold = item.threshold;
  inc.anomaly_ids.push(item.id);
  return inc;
}

// upsertIncident puts inc at the top of the list, replacing its old row.
function upsertIncident(inc) {
  const tbody = document.getElementById('rows');
  if (!tbody) return;
  const at = state.incidents.findIndex((x) => x.id === inc.id);
  if (at >= 0) state.incidents.splice(at, 1); else state.total++;
  state.incidents.unshift(inc);
  if (state.incidents.length > MAX_ROWS) state.incidents.pop();
  tbody.querySelectorAll(`tr[data-of="${CSS.escape(inc.id)}"], tr[data-incident="${CSS.escape(inc.id)}"]`).forEach((tr) => tr.remove());
  document.getElementById('empty')?.remove();
  const rows = incidentRows(inc);
  rows[0].classList.add('fresh');
  tbody.prepend(...rows);
  for (let all = tbody.querySelectorAll('tr.incident'); all.length > MAX_ROWS; all = tbody.querySelectorAll('tr.incident')) {
    const last = all[all.length - 1];
    tbody.querySelectorAll(`tr[data-of="${CSS.escape(last.dataset.incident)}"]`).forEach((tr) => tr.remove());
    last.remove();
  }
  showCount();
}

function showCount() {
  const el = document.getElementById('shown');
  const n = state.incidents.length;
  if (el) el.textContent = state.total > n ? `${n} incidents shown of ${state.total}` : `${n} incidents shown`;
}

const kinds = (ks) => h('span', { class: 'kinds' }, (ks || []).map(kindBadge));

const incidentHead = () => h('thead', {}, h('tr', {}, ['', 'Last', 'Service', 'Signal', 'Kinds', 'Records', 'Confidence', 'Latest explanation'].map((c) => h('th', {}, c))));

// incidentRows is an incident's row, followed by its records when expanded.
function incidentRows(inc) {
  const t = fmtTime(inc.end);
  const open = state.open.has(inc.id);
  const tr = h('tr', { class: 'row incident' + (open ? ' open' : ''), 'data-incident': inc.id, onclick: () => toggleIncident(inc.id) },
    h('td', { class: 'tog', title: open ? 'hide records' : 'show records' }, open ? '▾' : '▸'),
    h('td', { class: 'time', title: `${inc.start} – ${inc.end}` }, t.clock, h('small', { 'data-time': inc.end }, t.ago)),
    h('td', { class: 'svc' }, inc.stream.service, h('small', {}, inc.stream.metric || inc.stream.key)),
    h('td', {}, signalBadge(inc.stream.signal)),
    h('td', {}, kinds(inc.kinds)),
    h('td', { class: 'num', title: 'records of this incident held' }, inc.records),
    h('td', {}, confidence(inc.max_confidence)),
    h('td', { class: 'expl' }, h('div', { title: inc.latest_explanation }, inc.latest_explanation)));
  if (!open) return [tr];
  const recs = state.records.get(inc.id);
  if (!recs) return [tr, h('tr', { class: 'sub', 'data-of': inc.id }, h('td', { colspan: 8, class: 'muted' }, 'loading…'))];
  return [tr, ...recs.map((r) => recordSubRow(inc.id, r))];
}

// recordSubRow is one record of an expanded incident; a click opens it.
function recordSubRow(incID, r) {
  const t = fmtTime(r.window.end);
  return h('tr', { class: 'row sub', 'data-of': incID, 'data-id': r.id, onclick: (ev) => { ev.stopPropagation(); location.hash = '#/anomaly/' + enc(r.id); } },
    h('td', {}, ''), h('td', { class: 'time', title: t.full }, t.clock, h('small', {}, t.ago)),
    h('td', { class: 'svc' }, h('small', { class: 'mono' }, r.id)), h('td', {}, ''),
    h('td', {}, kindBadge(r.kind)), h('td', { class: 'num' }, r.window.events + ' ev'),
    h('td', {}, confidence(r.scores.confidence)),
    h('td', { class: 'expl' }, h('div', { title: r.explanation }, r.explanation)));
}

// toggleIncident expands or collapses an incident, loading its records.
async function toggleIncident(id) {
  if (state.open.has(id)) state.open.delete(id); else state.open.add(id);
  redrawIncident(id);
  if (!state.open.has(id)) return;
  try { state.records.set(id, (await api('/api/v1/incidents/' + enc(id))).anomalies); } catch (e) { state.records.set(id, []); }
  redrawIncident(id);
}

function redrawIncident(id) {
  const tr = document.querySelector(`tr[data-incident="${CSS.escape(id)}"]`);
  const inc = state.incidents.find((x) => x.id === id);
  if (!tr || !inc) return;
  document.querySelectorAll(`tr[data-of="${CSS.escape(id)}"]`).forEach((x) => x.remove());
  tr.replaceWith(...incidentRows(inc));
}

function filterBar(onChange) {
  const f = state.filters;
  const services = [...new Set(state.streams.map((s) => s.service))].sort();
  const opt = (v, label, cur) => h('option', { value: v, selected: v === cur ? '' : false }, label);
  const svc = h('select', { id: 'f-service' }, opt('', 'all services', f.service), services.map((s) => opt(s, s, f.service)));
  const sig = h('select', { id: 'f-signal' }, ['', 'log', 'metric', 'span'].map((s) => opt(s, s || 'all signals', f.signal)));
  const kind = h('select', { id: 'f-kind' }, [['', 'all kinds'], ['event', 'event'], ['window', 'window']].map(([v, l]) => opt(v, l, f.kind)));
  const conf = h('select', { id: 'f-conf' }, [['', 'any'], ['0.9', '≥ 90%'], ['0.95', '≥ 95%'], ['0.99', '≥ 99%'], ['0.999', '≥ 99.9%']]
    .map(([v, l]) => opt(v, l, f.min_confidence)));
  const changed = () => { f.service = svc.value; f.signal = sig.value; f.kind = kind.value; f.min_confidence = conf.value; onChange(); };
  [svc, sig, kind, conf].forEach((el) => el.addEventListener('change', changed));
  return h('div', { class: 'filters' },
    h('label', {}, 'Service', svc), h('label', {}, 'Signal', sig), h('label', {}, 'Kind', kind), h('label', {}, 'Min confidence', conf),
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
    const [list] = await Promise.all([api('/api/v1/incidents?' + query()), loadStreams()]);
    state.incidents = list.incidents;
    state.incidents.forEach((inc) => inc.anomaly_ids.forEach((id) => state.seen.add(id)));
    state.lastSeq = Math.max(state.lastSeq, list.latest_sequence);
    state.records.clear();
    const tbody = h('tbody', { id: 'rows' }, state.incidents.flatMap(incidentRows));
    const empty = state.incidents.length ? null : h('div', { class: 'empty', id: 'empty' }, 'No incidents yet. New ones appear here as they are detected.');
    view.replaceChildren(filterBar(render),
      h('div', { class: 'layout' },
        h('section', { class: 'panel' }, h('h2', {}, 'Incidents', h('span', { class: 'muted' }, 'latest update first · live')),
          h('table', { class: 'incidents' }, incidentHead(), tbody), empty),
        h('aside', { class: 'panel' }, h('h2', {}, 'Streams', h('span', {}, '')), h('ul', { class: 'streams', id: 'streams' }))));
    state.total = list.total;
    showCount();
    renderStreamsPanel();
    [...state.open].forEach(async (id) => {
      try { state.records.set(id, (await api('/api/v1/incidents/' + enc(id))).anomalies); } catch (e) { state.open.delete(id); }
      redrawIncident(id);
    });
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
