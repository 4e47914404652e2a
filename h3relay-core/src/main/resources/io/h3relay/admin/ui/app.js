// h3relay control center: polls GET /status every second, follows GET /events (Server-Sent Events), and
// calls the admin API for actions (each after a confirmation). No framework, no build step.
'use strict';

const state = { prev: null, prevAt: 0, authRequired: false, busy: false };
const $ = (sel) => document.querySelector(sel);

function token() { return sessionStorage.getItem('h3relay-admin-token') || ''; }

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else if (k === 'onclick') e.addEventListener('click', v);
    else e[k] = v;
  }
  for (const c of children) if (c != null) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function toast(text, bad) {
  const t = $('#toast');
  t.textContent = text;
  t.className = 'toast' + (bad ? ' bad' : '');
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 5000);
}

function confirmAction(text) {
  return new Promise((resolve) => {
    const d = $('#confirm');
    $('#confirm-text').textContent = text;
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
    d.showModal();
  });
}

async function act(method, path, what) {
  if (!(await confirmAction(what + '?'))) return;
  const headers = {};
  if (token()) headers['Authorization'] = 'Bearer ' + token();
  try {
    const res = await fetch(path, { method, headers });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      const msg = body.error ? body.error.message : res.statusText;
      toast(what + ' failed (' + res.status + '): ' + msg + (body.errors ? ' — ' + body.errors.map(e => e.text).join('; ') : ''), true);
    } else {
      toast(what + ': ' + (body.result || body.state || (body.http3 === undefined ? 'done' : 'HTTP/3 ' + (body.http3 ? 'on' : 'off'))));
    }
  } catch (e) {
    toast(what + ' failed: ' + e, true);
  }
  refresh();
}

function canChange() { return !state.authRequired || token() !== ''; }

function rate(now, before, seconds) {
  if (now == null || before == null || seconds <= 0) return null;
  return Math.max(0, (now - before) / seconds);
}

function p99(now, before) {
  if (!now) return null;
  const counts = now.counts.map((c, i) => c - (before && before.counts[i] !== undefined ? before.counts[i] : 0));
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  const want = total * 0.99;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen >= want) return now.le[i] == null ? now.le[i - 1] : now.le[i];
  }
  return null;
}

function fmtMs(seconds) {
  if (seconds == null) return '–';
  const ms = seconds * 1000;
  return ms < 1 ? '<1 ms' : ms < 1000 ? '≤' + Math.round(ms) + ' ms' : '≤' + (ms / 1000).toFixed(1) + ' s';
}

function renderListeners(status, prev, seconds) {
  const box = $('#listeners');
  box.replaceChildren();
  for (const l of status.listeners) {
    const before = prev && prev.listeners.find(p => p.name === l.name);
    // Requests by protocol over the last second; when there were none, since start.
    let share = {};
    let total = 0;
    let since = 'last second';
    for (const p of ['h1', 'h2', 'h3']) {
      share[p] = (before ? rate(l.requests[p], before.requests[p], seconds) : 0) || 0;
      total += share[p];
    }
    if (total === 0) {
      since = 'since start';
      for (const p of ['h1', 'h2', 'h3']) { share[p] = l.requests[p] || 0; total += share[p]; }
    }
    const bar = el('div', { class: 'share' });
    for (const p of ['h1', 'h2', 'h3']) {
      const s = el('span', { class: p });
      s.style.width = (total > 0 ? (100 * share[p] / total) : 0) + '%';
      bar.append(s);
    }
    const legend = el('div', { class: 'legend' }, ...['h1', 'h2', 'h3'].map(p =>
      el('span', {}, el('i', { class: p }), p + ' ' + (total > 0 ? Math.round(100 * share[p] / total) : 0) + '%')),
      el('span', { class: 'since' }, 'of requests, ' + since));
    let h3;
    if (l.http3_configured) {
      const on = l.http3_enabled;
      h3 = el('div', { class: 'row' },
        el('span', {}, 'HTTP/3 ', el('span', { class: 'pill small ' + (on ? 'ok' : 'warn'), 'data-h3-state': l.name }, on ? 'on' : 'off'),
          ' · QUIC connections ', el('b', { 'data-quic': l.name }, l.connections.h3 == null ? '–' : l.connections.h3)),
        el('button', {
          class: on ? 'danger' : 'action', 'data-h3-toggle': l.name, disabled: !canChange(),
          title: canChange() ? '' : 'enter the admin token to make changes',
          onclick: () => act('POST', '/listeners/' + encodeURIComponent(l.name) + '/http3?enabled=' + !on,
            (on ? 'Turn HTTP/3 off' : 'Turn HTTP/3 on') + ' on listener ' + l.name)
        }, on ? 'Turn HTTP/3 off' : 'Turn HTTP/3 on'));
    }
    const conns = ['h1', 'h2', 'h3'].map(p => p + ' ' + (l.connections[p] == null ? '–' : l.connections[p])).join(' · ');
    box.append(el('div', { class: 'card', 'data-listener': l.name },
      el('h3', {}, l.name, el('span', { class: 'pill small info' }, l.protocols.join(' '))),
      el('div', { class: 'addr' }, l.address + (l.tls === 'true' ? ' · tls' : '')),
      bar, legend,
      el('div', { class: 'row muted' }, 'open connections: ' + conns),
      h3));
  }
}

function healthPill(e) {
  if (e.ejected) return el('span', { class: 'pill bad' }, 'ejected');
  if (e.failing_checks) return el('span', { class: 'pill bad', title: e.last_check_failure || '' }, 'unhealthy');
  return el('span', { class: 'pill ok' }, 'healthy');
}

function statePill(s) {
  const cls = { enabled: 'ok', draining: 'warn', drained: 'info', disabled: 'bad' }[s] || '';
  return el('span', { class: 'pill ' + cls }, s);
}

function renderEndpoints(status, prev, seconds) {
  const body = $('#endpoints tbody');
  body.replaceChildren();
  for (const c of status.clusters) {
    const pc = prev && prev.clusters.find(x => x.name === c.name);
    for (const e of c.endpoints) {
      const pe = pc && pc.endpoints.find(x => x.address === e.address);
      const rps = pe ? rate(e.responses, pe.responses, seconds) : null;
      const errs = pe ? rate(e.errors, pe.errors, seconds) : null;
      const errPct = rps != null && errs != null && (rps + errs) > 0 ? (100 * errs / Math.max(rps, errs)) : null;
      const path = '/clusters/' + encodeURIComponent(c.name) + '/endpoints/' + encodeURIComponent(e.address);
      const buttons = el('div', { class: 'actions' });
      const add = (label, action, cls, enabled) => buttons.append(el('button', {
        class: cls, 'data-action': action, disabled: !enabled || !canChange(),
        title: canChange() ? '' : 'enter the admin token to make changes',
        onclick: () => act('POST', path + '/' + action, label + ' ' + e.address + ' in cluster ' + c.name)
      }, label));
      add('Drain', 'drain', 'danger', e.state === 'enabled');
      add('Enable', 'enable', 'action', e.state !== 'enabled');
      add('Disable', 'disable', '', e.state !== 'disabled');
      const row = el('tr', { 'data-endpoint': c.name + '/' + e.address },
        el('td', {}, c.name, c.panic ? el('span', { class: 'pill small bad', title: 'no healthy endpoint: sending to all' }, ' panic') : null),
        el('td', { class: 'mono' }, e.address),
        el('td', { class: 'health' }, healthPill(e)),
        el('td', { class: 'state' }, statePill(e.state)),
        el('td', { class: 'num' }, e.active_requests),
        el('td', { class: 'num' }, rps == null ? '–' : rps.toFixed(1)),
        el('td', { class: 'num' }, errPct == null ? '–' : errPct.toFixed(1) + '%'),
        el('td', { class: 'num' }, fmtMs(p99(e.latency, pe && pe.latency))),
        el('td', {}, c.protocol),
        el('td', {}, buttons));
      const was = pe && (pe.failing_checks !== e.failing_checks || pe.state !== e.state || pe.ejected !== e.ejected);
      if (was) row.classList.add('flash');
      body.append(row);
    }
  }
}

function renderSummary(status) {
  let healthy = 0, total = 0, panic = false;
  for (const c of status.clusters) {
    panic = panic || c.panic;
    for (const e of c.endpoints) { total++; if (e.healthy && e.state === 'enabled') healthy++; }
  }
  const o = $('#overall');
  o.textContent = status.draining ? 'draining' : panic ? 'unhealthy' : healthy === total ? 'healthy' : 'degraded';
  o.className = 'pill ' + (status.draining ? 'warn' : panic ? 'bad' : healthy === total ? 'ok' : 'warn');
  $('#generation').textContent = healthy + '/' + total + ' endpoints taking traffic · config generation ' + status.generation
    + (status.config_file ? ' · ' + status.config_file : '');
  $('#reload').disabled = !canChange() || !status.config_file;
  const grafana = $('#grafana');
  if (status.grafana_url) {
    grafana.href = status.grafana_url;
    grafana.hidden = false;
  } else {
    grafana.hidden = true;
  }
  const banner = $('#banner');
  if (state.authRequired && !token()) {
    banner.textContent = 'Read-only: this admin listener requires a token for changes. Enter admin.auth_token above to drain, enable, toggle HTTP/3 or reload.';
    banner.hidden = false;
  } else if (!status.metrics) {
    banner.textContent = 'Metrics are off (observability.metrics.enabled: false): rates, errors and p99 are not available.';
    banner.hidden = false;
  } else {
    banner.hidden = true;
  }
}

// h3relay demo only: GET /demo answers (404 elsewhere), and the panel stops/starts a demo endpoint and
// turns the 50 req/s test traffic on and off.
function renderDemo(demo) {
  const section = $('#demo');
  section.hidden = false;
  const t = demo.traffic;
  const button = $('#demo-traffic');
  button.textContent = t.running ? 'Stop test traffic' : 'Send ' + t.rate + ' req/s';
  button.disabled = !canChange();
  button.onclick = () => act('POST', '/demo/traffic?enabled=' + !t.running,
    t.running ? 'Stop the test traffic' : 'Send ' + t.rate + ' requests per second of test traffic');
  $('#demo-traffic-state').textContent = (t.running ? 'sending, ' : 'idle, ') + t.sent + ' sent, ' + t.ok + ' ok, '
    + t.failed + ' failed';
  const body = $('#demo-endpoints tbody');
  body.replaceChildren(...demo.endpoints.map((e) => el('tr', { 'data-demo-endpoint': e.name },
    el('td', {}, e.name), el('td', { class: 'mono' }, e.address),
    el('td', { class: 'process' }, el('span', { class: 'pill ' + (e.running ? 'ok' : 'bad') }, e.running ? 'running' : 'stopped')),
    el('td', {}, e.running
      ? el('button', { type: 'button', class: 'action', 'data-demo-action': 'stop', disabled: !canChange(),
          onclick: () => act('POST', '/demo/endpoints/' + encodeURIComponent(e.name) + '/stop', 'Stop ' + e.name) }, 'Stop')
      : el('button', { type: 'button', class: 'action', 'data-demo-action': 'start', disabled: !canChange(),
          onclick: () => act('POST', '/demo/endpoints/' + encodeURIComponent(e.name) + '/start', 'Start ' + e.name) }, 'Start')))));
}

async function refreshDemo() {
  if (state.demo === false) return;
  try {
    const res = await fetch('/demo', { cache: 'no-store' });
    if (res.status === 404) { state.demo = false; return; }
    if (res.ok) { state.demo = true; renderDemo(await res.json()); }
  } catch (e) { /* the status poll reports an unreachable admin */ }
}

async function refresh() {
  refreshDemo();
  if (state.busy) return;
  state.busy = true;
  try {
    const res = await fetch('/status', { cache: 'no-store' });
    if (!res.ok) throw new Error('status ' + res.status);
    const status = await res.json();
    const now = performance.now();
    const seconds = state.prev ? (now - state.prevAt) / 1000 : 0;
    state.authRequired = status.auth_required;
    renderSummary(status);
    renderListeners(status, state.prev, seconds);
    renderEndpoints(status, state.prev, seconds);
    state.prev = status;
    state.prevAt = now;
  } catch (e) {
    const o = $('#overall');
    o.textContent = 'admin unreachable';
    o.className = 'pill bad';
  } finally {
    state.busy = false;
  }
}

function describe(ev) {
  switch (ev.type) {
    case 'health': return ev.cluster + ' ' + ev.endpoint + (ev.healthy ? ' is healthy again' : ' turned unhealthy' + (ev.reason ? ': ' + ev.reason : ''));
    case 'ejection': return ev.cluster + ' ' + ev.endpoint + (ev.ejected ? ' ejected by outlier detection' : ' back from ejection');
    case 'reload': return 'config ' + ev.result + ' (' + ev.trigger + ')' + (ev.generation ? ', generation ' + ev.generation : '')
      + (ev.errors ? ': ' + ev.errors.join('; ') : '') + (ev.changes ? ': ' + ev.changes.join('; ') : '');
    case 'drain': case 'enable': case 'disable': case 'drained':
      return ev.cluster + ' ' + ev.endpoint + ' → ' + ev.state + (ev.active_requests ? ' (' + ev.active_requests + ' in flight)' : '');
    case 'breaker': return ev.cluster + ': circuit breaker (' + ev.limit + ') ' + (ev.open ? 'refusing requests (' + ev.rejected_last_second + ' in the last second)' : 'closed again');
    case 'http3': return 'HTTP/3 turned ' + (ev.enabled ? 'on' : 'off') + ' on listener ' + ev.listener;
    case 'http3_closed': return 'listener ' + ev.listener + ': QUIC connections done, UDP sockets closed';
    default: return JSON.stringify(ev);
  }
}

const pillFor = { health: 'warn', ejection: 'bad', reload: 'info', drain: 'warn', drained: 'info', enable: 'ok',
  disable: 'bad', http3: 'info', http3_closed: 'info', breaker: 'bad' };

function follow() {
  const list = $('#events');
  const src = new EventSource('/events');
  const add = (m) => {
    const ev = JSON.parse(m.data);
    const t = new Date(ev.time);
    let cls = pillFor[ev.type] || '';
    if (ev.type === 'health' && ev.healthy) cls = 'ok';
    if (ev.type === 'reload' && ev.result !== 'applied') cls = 'bad';
    if (ev.type === 'breaker' && !ev.open) cls = 'ok';
    list.prepend(el('li', { 'data-event': ev.type, 'data-id': ev.id },
      el('time', { title: ev.time }, t.toLocaleTimeString()),
      el('span', { class: 'type' }, el('span', { class: 'pill small ' + cls }, ev.type)),
      el('span', {}, describe(ev))));
    while (list.children.length > 1000) list.lastChild.remove();
    refresh();
  };
  for (const type of Object.keys(pillFor)) src.addEventListener(type, add);
  src.onopen = () => { $('#stream').textContent = 'live'; $('#stream').className = 'pill small ok'; };
  src.onerror = () => { $('#stream').textContent = 'reconnecting'; $('#stream').className = 'pill small warn'; };
}

document.addEventListener('DOMContentLoaded', () => {
  $('#token').value = token();
  $('#save-token').addEventListener('click', () => {
    sessionStorage.setItem('h3relay-admin-token', $('#token').value.trim());
    toast($('#token').value.trim() ? 'token stored for this tab' : 'token cleared');
    refresh();
  });
  $('#reload').addEventListener('click', () => act('POST', '/config/reload', 'Reload the config file'));
  refresh();
  setInterval(refresh, 1000);
  follow();
});
