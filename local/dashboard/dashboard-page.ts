/**
 * The local operator console (`GET /dashboard` on the local API host, through its static hook):
 * one page that does everything through the public API with the merchant secret key the operator
 * types in (npm start prints the demo merchant's).
 *
 * - Find: search by order reference or customer email, filter by status, over the merchant's newest
 *   checkouts (`GET /v1/checkouts`, paged); an order reference not among them is looked up exactly
 *   (`GET /v1/checkouts?merchant_order_ref=`).
 * - Look: each checkout's saga timeline from `GET /v1/checkouts/{id}` `events[]`, and three charts
 *   drawn with Chart.js: checkouts per status over time, authorization rate per connector, and
 *   Pay Now -> terminal latency percentiles (from each timeline's `payment_started` to its end).
 * - Connectors: with the platform admin token (a second field), the operator view per connector over
 *   the last hour from `GET /v1/operator/connectors`: attempts, authorization rate, failovers out and
 *   in, refreshed with the rest.
 * - Act: capture, refund and void (`POST /v1/financial_instruments/{id}/_capture|_refund|_revoke`)
 *   and redeliver a webhook (`POST /v1/events/{id}/redeliver`), each after a confirmation dialog and
 *   with an Idempotency-Key made when the dialog opens, so a double click or a retry is one operation.
 *
 * Chart.js is served from node_modules at `/dashboard/vendor/chart.umd.min.js` (no CDN) with a
 * Subresource Integrity hash; the page's CSP allows scripts from 'self' plus the inline script's
 * hash, nothing inline otherwise. Local only: it is not deployed, and the key lives in the page's
 * memory, never in storage or URLs.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CURRENCY_EXPONENTS } from '../../lambdas/web-checkout/checkout-page';
import { renderPage, sendPage } from '../web/html';

const CHART_JS_PATH = '/dashboard/vendor/chart.umd.min.js';

/** Chart.js's UMD build, read from node_modules once, at first use. */
let chartJs: { body: Buffer; integrity: string } | undefined;
function chartJsFile(): { body: Buffer; integrity: string } {
  if (chartJs === undefined) {
    const entry = createRequire(import.meta.url).resolve('chart.js'); // .../chart.js/dist/chart.cjs
    const body = readFileSync(join(dirname(entry), 'chart.umd.min.js'));
    chartJs = { body, integrity: `sha384-${createHash('sha384').update(body).digest('base64')}` };
  }
  return chartJs;
}

const STYLE = `
.keyform{display:flex;gap:.75rem;align-items:flex-end;flex-wrap:wrap;margin-bottom:1rem}
.keyform .field{display:flex;flex-direction:column;gap:.25rem;flex:1 1 16rem;min-width:0}
.keyform input{width:100%}
.hint{font-size:.875rem;color:var(--muted);margin:.25rem 0 0}
.toolbar{display:flex;gap:.75rem 1rem;align-items:flex-end;flex-wrap:wrap;margin:0 0 .75rem}
.toolbar .field{display:flex;flex-direction:column;gap:.25rem;min-width:0}
.toolbar .grow{flex:1 1 14rem}
.toolbar input[type=search]{width:100%}
select{font:inherit;padding:.5rem .75rem;border:1px solid #6b7280;border-radius:.5rem;background:#fff;color:var(--ink)}
main{max-width:96rem}
.topbar .inner{max-width:96rem}
.layout{display:grid;grid-template-columns:minmax(0,1fr) 26rem;gap:1.25rem;align-items:start}
@media (max-width:70rem){.layout{grid-template-columns:minmax(0,1fr)}}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,20rem),1fr));gap:1rem;margin:0 0 1.25rem}
.chart{min-width:0;margin:0}
.chart h3{font-size:1rem;margin:0 0 .5rem}
.chart-box{position:relative;height:14rem}
.chart-summary{font-size:.875rem;color:var(--muted);margin:.5rem 0 0}
td.mono,td.when{white-space:nowrap}
.table-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:.75rem}
tr.selected td{background:#ecfdf5}
button.link{background:none;color:var(--info);padding:0;white-space:nowrap;font-weight:600;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.875rem;text-decoration:underline;border-radius:.25rem}
button.link:hover{background:none;color:#1e3a8a}
button.small{padding:.35rem .75rem;font-size:.875rem}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:0 0 1rem}
.webhooks{list-style:none;margin:0 0 1rem;padding:0}
.webhooks li{display:flex;flex-wrap:wrap;gap:.25rem .75rem;align-items:center;justify-content:space-between;padding:.5rem 0;border-bottom:1px solid var(--line);font-size:.875rem}
.timeline{list-style:none;margin:0;padding:0;border-left:3px solid var(--line)}
.timeline li{position:relative;margin:0 0 1rem;padding-left:1rem}
.timeline li::before{content:"";position:absolute;left:-.5rem;top:.45rem;width:.75rem;height:.75rem;border-radius:50%;background:#9ca3af}
.timeline li.ok::before{background:#16a34a}
.timeline li.bad::before{background:#dc2626}
.timeline li.info::before{background:#2563eb}
.step{font-weight:700}
.when{font-size:.8125rem;color:var(--muted);font-variant-numeric:tabular-nums}
.detail{font-size:.875rem;margin:.125rem 0 0;overflow-wrap:anywhere}
.latency{font-weight:700}
dl.facts{display:grid;grid-template-columns:auto minmax(0,1fr);gap:.25rem 1rem;margin:0 0 1rem;font-size:.9375rem}
dl.facts dt{font-weight:600;color:var(--muted)}
dl.facts dd{margin:0;overflow-wrap:anywhere}
dialog{border:1px solid var(--line);border-radius:.75rem;padding:1.25rem;max-width:min(28rem,calc(100vw - 2rem))}
dialog::backdrop{background:rgba(17,24,39,.45)}
dialog .field{display:flex;flex-direction:column;gap:.25rem;margin:.75rem 0}
dialog .buttons{display:flex;gap:.5rem;justify-content:flex-end;flex-wrap:wrap;margin-top:1rem}
.operator{margin:0 0 1.25rem}
.operator h2{font-size:1.125rem;margin:0 0 .75rem}
.error-text{color:var(--bad);font-weight:600;font-size:.875rem;margin:.25rem 0 0}
`;

const SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('page-data').textContent);
  var apiBase = new URL('/v1/', location.href);
  var MAX_CHECKOUTS = 500;
  var key = '';
  var all = [];
  var selected = null;
  var selectedView = null;
  var timer = null;
  var charts = {};
  var latencyCache = {};
  var pending = null;
  function el(id) { return document.getElementById(id); }
  function text(tag, content, className) {
    var node = document.createElement(tag);
    if (content !== undefined && content !== null) node.textContent = String(content);
    if (className) node.className = className;
    return node;
  }
  function announce(message) { el('status').textContent = message; }
  function api(path, method, body, idempotencyKey) {
    var headers = { authorization: 'Bearer ' + key, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    return fetch(new URL(path, apiBase), { method: method || 'GET', headers: headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (response) { return response.text().then(function (raw) {
        var json = null;
        try { json = raw ? JSON.parse(raw) : null; } catch (e) { json = null; }
        return { status: response.status, json: json };
      }); });
  }
  function apiError(answer) { return (answer.json && answer.json.error && answer.json.error.message) || ('The API answered HTTP ' + answer.status); }
  function newKey(prefix) { return prefix + '-' + crypto.randomUUID(); }
  function exponentOf(currency) { return Object.prototype.hasOwnProperty.call(data.exponents, currency) ? data.exponents[currency] : 2; }
  function money(minor, currency) {
    var exponent = exponentOf(currency);
    var digits = String(Math.abs(minor));
    if (exponent > 0) {
      while (digits.length <= exponent) digits = '0' + digits;
      digits = digits.slice(0, digits.length - exponent) + '.' + digits.slice(digits.length - exponent);
    }
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: currency, minimumFractionDigits: exponent, maximumFractionDigits: exponent })
      .format((minor < 0 ? '-' : '') + digits);
  }
  function plainAmount(minor, currency) {
    var exponent = exponentOf(currency);
    var digits = String(minor);
    if (exponent === 0) return digits;
    while (digits.length <= exponent) digits = '0' + digits;
    return digits.slice(0, digits.length - exponent) + '.' + digits.slice(digits.length - exponent);
  }
  // "12.5" in a currency with exponent 2 -> 1250, by string manipulation (no float arithmetic).
  function toMinor(input, currency) {
    var exponent = exponentOf(currency);
    var match = /^(\\d{1,12})(?:\\.(\\d*))?$/.exec(input.trim());
    if (!match || (match[2] || '').length > exponent) return null;
    var fraction = (match[2] || '');
    while (fraction.length < exponent) fraction += '0';
    return Number(match[1] + fraction);
  }
  function time(iso) {
    var d = new Date(iso);
    return d.toLocaleTimeString(undefined, { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
  }
  function dateTime(iso) { return new Date(iso).toLocaleDateString(undefined, { month: 'short', day: 'numeric' }) + ' ' + time(iso); }
  var STATUSES = ['open', 'processing', 'succeeded', 'failed', 'expired', 'canceled'];
  var STATUS_CLASS = { succeeded: 'ok', failed: 'bad', expired: 'bad', canceled: 'bad', processing: 'info', open: 'warn' };
  var STATUS_COLOR = { open: '#ca8a04', processing: '#2563eb', succeeded: '#16a34a', failed: '#dc2626', expired: '#6b7280', canceled: '#9333ea' };
  function pill(status) { return text('span', status, 'pill ' + (STATUS_CLASS[status] || '')); }
  function isTerminal(status) { return status === 'succeeded' || status === 'failed' || status === 'expired' || status === 'canceled'; }

  // ---- Find: search and status filter over the loaded checkouts ----
  function matches(c, query, status) {
    if (status && c.status !== status) return false;
    if (!query) return true;
    var q = query.toLowerCase();
    var email = c.customer && c.customer.email ? c.customer.email.toLowerCase() : '';
    return c.merchant_order_ref.toLowerCase().indexOf(q) >= 0 || email.indexOf(q) >= 0 || c.id.toLowerCase() === q;
  }
  function filtered() {
    var query = el('search').value.trim();
    var status = el('status-filter').value;
    return all.filter(function (c) { return matches(c, query, status); });
  }
  function applyFilters(quiet) {
    var list = filtered();
    var query = el('search').value.trim();
    if (list.length === 0 && query && query.indexOf('@') < 0) {
      // Not among the newest checkouts: ask the API for this exact order reference.
      return api('checkouts?merchant_order_ref=' + encodeURIComponent(query)).then(function (answer) {
        var found = answer.status === 200 && answer.json && matches(answer.json, '', el('status-filter').value) ? [answer.json] : [];
        renderList(found);
        if (!quiet) announce(found.length + ' checkouts match.');
      });
    }
    renderList(list);
    if (!quiet) announce(list.length + ' checkouts match.');
    return Promise.resolve();
  }

  function renderList(list) {
    var body = el('rows');
    body.textContent = '';
    el('empty').hidden = list.length > 0;
    el('match-count').textContent = list.length + ' of ' + all.length + ' checkouts';
    list.forEach(function (c) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-checkout', c.id);
      if (c.id === selected) tr.className = 'selected';
      var idCell = document.createElement('td');
      var button = text('button', c.id, 'link');
      button.type = 'button';
      button.setAttribute('aria-label', 'Show timeline of ' + c.id);
      if (c.id === selected) button.setAttribute('aria-pressed', 'true');
      button.addEventListener('click', function () { select(c.id); });
      idCell.appendChild(button);
      tr.appendChild(idCell);
      tr.appendChild(text('td', c.merchant_order_ref, 'mono'));
      tr.appendChild(text('td', c.customer && c.customer.email ? c.customer.email : ''));
      tr.appendChild(text('td', money(c.amount, c.currency), 'num'));
      var statusCell = document.createElement('td');
      statusCell.appendChild(pill(c.status));
      tr.appendChild(statusCell);
      tr.appendChild(text('td', c.failure_reason || ''));
      tr.appendChild(text('td', dateTime(c.created_at), 'when'));
      body.appendChild(tr);
    });
  }

  // ---- Look: charts ----
  function bucketing(list) {
    var times = list.map(function (c) { return Date.parse(c.created_at); });
    var span = times.length ? Math.max.apply(null, times) - Math.min.apply(null, times) : 0;
    if (span <= 2 * 3600000) return { size: 60000, label: function (t) { return new Date(t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false }); } };
    if (span <= 3 * 86400000) return { size: 3600000, label: function (t) { var d = new Date(t); return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' }) + ' ' + String(d.getHours()).padStart(2, '0') + 'h'; } };
    return { size: 86400000, label: function (t) { return new Date(t).toLocaleDateString(undefined, { month: 'short', day: 'numeric' }); } };
  }
  function statusSeries(list) {
    var b = bucketing(list);
    var counts = {};
    var keys = [];
    list.forEach(function (c) {
      var k = Math.floor(Date.parse(c.created_at) / b.size) * b.size;
      if (!counts[k]) { counts[k] = {}; keys.push(k); }
      counts[k][c.status] = (counts[k][c.status] || 0) + 1;
    });
    keys.sort(function (x, y) { return x - y; });
    return {
      labels: keys.map(b.label),
      datasets: STATUSES.filter(function (s) { return list.some(function (c) { return c.status === s; }); }).map(function (s) {
        return { label: s, data: keys.map(function (k) { return counts[k][s] || 0; }), backgroundColor: STATUS_COLOR[s], stack: 'status' };
      })
    };
  }
  // Attempts: checkouts whose Pay Now reached a connector and that are terminal or already authorized.
  function authRates(list) {
    var by = {};
    list.forEach(function (c) {
      if (!c.payment) return;
      var authorized = c.payment.authorized_amount > 0;
      if (!authorized && !isTerminal(c.status)) return;
      var row = by[c.payment.connector] || (by[c.payment.connector] = { attempts: 0, authorized: 0 });
      row.attempts += 1;
      if (authorized) row.authorized += 1;
    });
    return Object.keys(by).sort().map(function (connector) {
      var row = by[connector];
      return { connector: connector, attempts: row.attempts, authorized: row.authorized, percent: Math.round((row.authorized * 1000) / row.attempts) / 10 };
    });
  }
  function percentile(sorted, p) {
    if (!sorted.length) return 0;
    var rank = Math.ceil((p / 100) * sorted.length);
    return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
  }
  // Pay Now -> terminal of one checkout, from its timeline; null when it has no such pair.
  function payToTerminal(view) {
    var events = view.events || [];
    var start = null;
    var end = null;
    events.forEach(function (e) {
      if (e.type === 'payment_started' && start === null) start = Date.parse(e.at);
      if (isTerminal(e.type) && end === null) end = Date.parse(e.at);
    });
    return start !== null && end !== null && end >= start ? end - start : null;
  }
  function loadLatencies(list) {
    var todo = list.filter(function (c) { return c.payment && isTerminal(c.status) && !Object.prototype.hasOwnProperty.call(latencyCache, c.id); }).slice(0, 100);
    var index = 0;
    function worker() {
      if (index >= todo.length) return Promise.resolve();
      var c = todo[index++];
      return api('checkouts/' + encodeURIComponent(c.id)).then(function (answer) {
        if (answer.status === 200) latencyCache[c.id] = payToTerminal(answer.json);
      }).then(worker);
    }
    return Promise.all([worker(), worker(), worker(), worker()]).then(function () {
      return list.map(function (c) { return latencyCache[c.id]; }).filter(function (v) { return typeof v === 'number'; }).sort(function (x, y) { return x - y; });
    });
  }
  function drawChart(id, config) {
    if (typeof window.Chart !== 'function') return;
    if (charts[id]) { charts[id].data = config.data; charts[id].update('none'); return; }
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    charts[id] = new window.Chart(el(id), config);
  }
  function renderCharts() {
    var list = all;
    var series = statusSeries(list);
    drawChart('chart-status', { type: 'bar', data: series, options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } } });
    var counts = {};
    list.forEach(function (c) { counts[c.status] = (counts[c.status] || 0) + 1; });
    el('chart-status-summary').textContent = STATUSES.filter(function (s) { return counts[s]; }).map(function (s) { return s + ' ' + counts[s]; }).join(', ') || 'No checkouts yet.';
    el('chart-status').setAttribute('data-total', String(list.length));

    var rates = authRates(list);
    drawChart('chart-auth', {
      type: 'bar',
      data: { labels: rates.map(function (r) { return r.connector; }), datasets: [{ label: 'authorized %', data: rates.map(function (r) { return r.percent; }), backgroundColor: '#047857' }] },
      options: { indexAxis: 'y', scales: { x: { min: 0, max: 100 } }, plugins: { legend: { display: false } } }
    });
    el('chart-auth-summary').textContent = rates.length
      ? rates.map(function (r) { return r.connector + ': ' + r.authorized + ' of ' + r.attempts + ' authorized (' + r.percent + '%)'; }).join('; ')
      : 'No payment attempts yet.';

    return loadLatencies(list).then(function (sorted) {
      var p = [50, 90, 99].map(function (q) { return percentile(sorted, q); });
      drawChart('chart-latency', {
        type: 'bar',
        data: { labels: ['p50', 'p90', 'p99'], datasets: [{ label: 'Pay Now \\u2192 terminal (ms)', data: p, backgroundColor: '#1e40af' }] },
        options: { scales: { y: { beginAtZero: true, title: { display: true, text: 'ms' } } }, plugins: { legend: { display: false } } }
      });
      el('chart-latency-summary').textContent = sorted.length
        ? 'p50 ' + p[0] + ' ms, p90 ' + p[1] + ' ms, p99 ' + p[2] + ' ms over ' + sorted.length + ' payments'
        : 'No finished payments yet.';
      el('charts').setAttribute('data-ready', 'true');
    });
  }

  // ---- Look: timeline ----
  var LABELS = {
    created: 'Checkout created',
    payment_started: 'Pay Now: payment started',
    authorized: 'Authorized at the PSP',
    authorization_declined: 'Authorization declined',
    inventory_confirmation_sent: 'Inventory confirmation sent',
    inventory_confirmed: 'Inventory confirmed by the merchant',
    inventory_rejected: 'Inventory rejected',
    captured: 'Captured',
    voided: 'Authorization voided',
    succeeded: 'Checkout succeeded',
    failed: 'Checkout failed',
    expired: 'Checkout expired',
    canceled: 'Checkout canceled',
    webhook_delivered: 'Webhook delivered',
    webhook_failed: 'Webhook attempt failed'
  };
  var KIND = { authorized: 'ok', inventory_confirmed: 'ok', captured: 'ok', succeeded: 'ok', webhook_delivered: 'ok',
    authorization_declined: 'bad', inventory_rejected: 'bad', voided: 'bad', failed: 'bad', webhook_failed: 'bad', expired: 'bad', canceled: 'bad',
    inventory_confirmation_sent: 'info', payment_started: 'info' };

  function details(event, checkout) {
    var d = event.data || {};
    var parts = [];
    if (typeof d.latency_ms === 'number') parts.push({ latency: true, text: 'answered in ' + d.latency_ms + ' ms' });
    if (d.http_status !== undefined) parts.push({ text: 'HTTP ' + d.http_status });
    if (typeof d.amount === 'number') parts.push({ text: money(d.amount, checkout.currency) });
    if (d.failure_reason) parts.push({ text: d.failure_reason });
    if (d.message) parts.push({ text: '\\u201c' + d.message + '\\u201d' });
    if (d.decline_code) parts.push({ text: d.decline_code });
    if (d.attempt !== undefined) parts.push({ text: 'attempt ' + d.attempt });
    if (d.event_type) parts.push({ text: d.event_type });
    if (d.error) parts.push({ text: d.error });
    if (d.url) parts.push({ text: d.url });
    if (d.psp_reference) parts.push({ text: d.psp_reference });
    return parts;
  }

  function renderTimeline(checkout) {
    el('timeline-empty').hidden = true;
    el('timeline-panel').hidden = false;
    el('timeline-title').textContent = 'Timeline of ' + checkout.id;
    var facts = el('facts');
    facts.textContent = '';
    var p = checkout.payment;
    [['Status', pill(checkout.status)], ['Amount', money(checkout.amount, checkout.currency)], ['Order ref', checkout.merchant_order_ref],
     ['Customer', checkout.customer && checkout.customer.email ? checkout.customer.email : '\\u2014'],
     ['Capture', p ? p.capture_method + ', captured ' + money(p.captured_amount, checkout.currency) + ', capturable ' + money(p.capturable_amount, checkout.currency) : '\\u2014'],
     ['Failure', checkout.failure_message || checkout.failure_reason || '\\u2014']].forEach(function (row) {
      facts.appendChild(text('dt', row[0]));
      var dd = document.createElement('dd');
      if (typeof row[1] === 'string') dd.textContent = row[1]; else dd.appendChild(row[1]);
      facts.appendChild(dd);
    });
    var list = el('timeline');
    list.textContent = '';
    var events = (checkout.events || []).slice().sort(function (a, b) { return a.at < b.at ? -1 : a.at > b.at ? 1 : 0; });
    var start = events.length ? Date.parse(events[0].at) : 0;
    events.forEach(function (event) {
      var li = text('li', undefined, KIND[event.type] || '');
      li.setAttribute('data-event', event.type);
      li.appendChild(text('div', LABELS[event.type] || event.type, 'step'));
      var offset = Date.parse(event.at) - start;
      li.appendChild(text('div', time(event.at) + '  (+' + offset + ' ms)', 'when'));
      var parts = details(event, checkout);
      if (parts.length) {
        var para = text('p', undefined, 'detail');
        parts.forEach(function (part, i) {
          if (i) para.appendChild(document.createTextNode(' \\u00b7 '));
          para.appendChild(text('span', part.text, part.latency ? 'latency' : ''));
        });
        li.appendChild(para);
      }
      list.appendChild(li);
    });
  }

  // ---- Act: capture, refund, void, redeliver ----
  var actionsShown = '';
  function actionButton(label, onClick) {
    var button = text('button', label, 'secondary small');
    button.type = 'button';
    button.addEventListener('click', onClick);
    return button;
  }
  function renderActions(checkout, instrument, events) {
    var signature = JSON.stringify([checkout.id, checkout.status, checkout.payment, instrument, events.map(function (e) { return [e.id, e.deliveries]; })]);
    if (signature === actionsShown) return;
    actionsShown = signature;
    var box = el('actions');
    box.textContent = '';
    var currency = checkout.currency;
    if (instrument && instrument.capturable_amount > 0) {
      box.appendChild(actionButton('Capture\\u2026', function () {
        openDialog({ kind: 'capture', title: 'Capture payment', instrument: instrument, currency: currency, max: instrument.capturable_amount,
          text: 'Capture from ' + checkout.id + ' (capturable ' + money(instrument.capturable_amount, currency) + '). The buyer\\u2019s card is charged.' });
      }));
      box.appendChild(actionButton('Void\\u2026', function () {
        openDialog({ kind: 'void', title: 'Void authorization', instrument: instrument, currency: currency,
          text: 'Release the whole remaining authorization of ' + money(instrument.capturable_amount, currency) + ' on ' + checkout.id + '. This cannot be undone.' });
      }));
    }
    if (instrument && instrument.refundable_amount > 0) {
      box.appendChild(actionButton('Refund\\u2026', function () {
        openDialog({ kind: 'refund', title: 'Refund payment', instrument: instrument, currency: currency, max: instrument.refundable_amount,
          text: 'Refund to the buyer of ' + checkout.id + ' (refundable ' + money(instrument.refundable_amount, currency) + ').' });
      }));
    }
    if (!box.childNodes.length) box.appendChild(text('p', instrument ? 'Nothing left to capture, void or refund.' : 'No payment to act on.', 'muted'));
    var hooks = el('webhooks');
    hooks.textContent = '';
    el('webhooks-empty').hidden = events.length > 0;
    events.forEach(function (e) {
      var li = document.createElement('li');
      li.setAttribute('data-webhook', e.type);
      var delivered = e.deliveries.filter(function (d) { return d.status === 'delivered'; }).length;
      var attempts = e.deliveries.reduce(function (n, d) { return n + d.attempts.length; }, 0);
      var label = document.createElement('span');
      label.appendChild(text('code', e.type));
      label.appendChild(document.createTextNode(' \\u00b7 ' + attempts + ' attempts, ' + delivered + '/' + e.deliveries.length + ' endpoints delivered'));
      li.appendChild(label);
      var button = actionButton('Redeliver\\u2026', function () {
        openDialog({ kind: 'redeliver', title: 'Redeliver webhook', event: e, text: 'Send ' + e.type + ' (' + e.id + ') to its endpoints again, with a fresh retry schedule.' });
      });
      button.setAttribute('aria-label', 'Redeliver ' + e.type);
      li.appendChild(button);
      hooks.appendChild(li);
    });
  }
  // The merchant's events about one checkout (newest 100 events, GET /v1/events).
  function checkoutEvents(id) {
    return api('events?limit=100').then(function (answer) {
      if (answer.status !== 200) return [];
      return answer.json.data.filter(function (e) { return e.data && e.data.object && e.data.object.id === id; });
    });
  }
  function openDialog(action) {
    pending = action;
    // One key per confirmation dialog: a double click or a retry after a lost answer is one operation.
    pending.idempotencyKey = newKey('console-' + action.kind);
    el('confirm-title').textContent = action.title;
    el('confirm-text').textContent = action.text;
    el('confirm-error').hidden = true;
    var amountField = el('amount-field');
    amountField.hidden = action.max === undefined;
    if (action.max !== undefined) {
      el('confirm-amount-label').textContent = 'Amount (' + action.currency + ')';
      el('confirm-amount').value = plainAmount(action.max, action.currency);
    }
    el('confirm-go').textContent = action.kind === 'redeliver' ? 'Redeliver' : action.kind.charAt(0).toUpperCase() + action.kind.slice(1);
    el('confirm-go').disabled = false;
    el('confirm').showModal();
  }
  function runAction() {
    var action = pending;
    if (!action) return;
    var request;
    if (action.kind === 'redeliver') {
      request = api('events/' + encodeURIComponent(action.event.id) + '/redeliver', 'POST', {}, action.idempotencyKey);
    } else {
      var path = 'financial_instruments/' + encodeURIComponent(action.instrument.id) + '/' + (action.kind === 'void' ? '_revoke' : '_' + action.kind);
      var body = {};
      if (action.max !== undefined) {
        var minor = toMinor(el('confirm-amount').value, action.currency);
        if (minor === null || minor < 1 || minor > action.max) {
          el('confirm-error').textContent = 'Enter an amount between ' + plainAmount(1, action.currency) + ' and ' + plainAmount(action.max, action.currency) + '.';
          el('confirm-error').hidden = false;
          el('confirm-amount').focus();
          return;
        }
        body = { amount: minor, currency: action.currency };
      }
      request = api(path, 'POST', body, action.idempotencyKey);
    }
    el('confirm-go').disabled = true;
    request.then(function (answer) {
      if (answer.status >= 200 && answer.status < 300) {
        el('confirm').close();
        pending = null;
        el('action-result').className = 'notice ok';
        el('action-result').textContent = action.title + ': done.';
        el('action-result').hidden = false;
        announce(action.title + ': done.');
        actionsShown = '';
        return loadList(true);
      }
      el('confirm-go').disabled = false;
      el('confirm-error').textContent = apiError(answer);
      el('confirm-error').hidden = false;
    }, function () {
      el('confirm-go').disabled = false;
      el('confirm-error').textContent = 'The API could not be reached. Try again: the same Idempotency-Key makes a retry safe.';
      el('confirm-error').hidden = false;
    });
  }

  // ---- Connectors: the operator view (platform admin token) ----
  var adminToken = '';
  var operatorTimer = null;
  // 8750 basis points -> "87.50 %", by integer arithmetic.
  function rateText(bps) {
    if (bps === null || bps === undefined) return '\u2014';
    return Math.floor(bps / 100) + '.' + String(bps % 100).padStart(2, '0') + ' %';
  }
  function loadOperator() {
    var headers = { authorization: 'Bearer ' + adminToken, accept: 'application/json' };
    return fetch(new URL('operator/connectors', apiBase), { headers: headers, cache: 'no-store' })
      .then(function (response) { return response.json().then(function (json) { return { status: response.status, json: json }; }); })
      .then(function (answer) {
        if (answer.status !== 200) {
          el('operator-error').textContent = apiError(answer);
          el('operator-error').hidden = false;
          el('operator-panel').hidden = true;
          return;
        }
        el('operator-error').hidden = true;
        el('operator-panel').hidden = false;
        var body = el('connector-rows');
        body.textContent = '';
        answer.json.data.forEach(function (row) {
          var tr = document.createElement('tr');
          tr.setAttribute('data-connector', row.connector);
          tr.appendChild(text('th', row.connector));
          tr.firstChild.setAttribute('scope', 'row');
          [row.attempts, row.authorized, row.failed, rateText(row.authorization_rate_bps), row.failovers_out, row.failovers_in].forEach(function (value, i) {
            var td = text('td', value, 'num');
            td.setAttribute('data-field', ['attempts', 'authorized', 'failed', 'authorization_rate', 'failovers_out', 'failovers_in'][i]);
            tr.appendChild(td);
          });
          body.appendChild(tr);
        });
        el('operator-window').textContent = 'Last ' + answer.json.window.minutes + ' minutes, ' + time(answer.json.window.start) + ' \u2013 ' + time(answer.json.window.end) + ' (whole minutes, counted exactly).';
        el('operator-panel').setAttribute('data-ready', 'true');
      }, function () { el('operator-error').textContent = 'The API could not be reached.'; el('operator-error').hidden = false; });
  }
  el('operator-form').addEventListener('submit', function (event) {
    event.preventDefault();
    adminToken = el('admin-token').value.trim();
    if (!adminToken) { el('admin-token').focus(); return; }
    if (operatorTimer) clearInterval(operatorTimer);
    loadOperator().then(function () {
      announce('Connector figures loaded.');
      operatorTimer = setInterval(function () { if (el('auto').checked) loadOperator(); }, 3000);
    });
  });

  // ---- Loading ----
  function loadAll() {
    var collected = [];
    function page(cursor) {
      return api('checkouts?limit=100' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '')).then(function (answer) {
        if (answer.status !== 200) return answer;
        collected = collected.concat(answer.json.data);
        if (answer.json.next_cursor && collected.length < MAX_CHECKOUTS) return page(answer.json.next_cursor);
        return { status: 200, json: { data: collected } };
      });
    }
    return page(null);
  }
  function loadList(quiet) {
    return loadAll().then(function (answer) {
      if (answer.status !== 200) {
        el('error').textContent = apiError(answer);
        el('error').hidden = false;
        el('results').hidden = true;
        stopAuto();
        announce('Could not load checkouts.');
        return;
      }
      el('error').hidden = true;
      el('results').hidden = false;
      all = answer.json.data;
      el('updated').textContent = 'Updated ' + time(new Date().toISOString());
      return applyFilters(quiet).then(function () {
        if (!quiet) announce(all.length + ' checkouts loaded.');
        return Promise.all([renderCharts(), selected ? loadTimeline(selected, true) : null]);
      });
    }, function () { announce('The API could not be reached.'); });
  }
  function loadTimeline(id, quiet) {
    return api('checkouts/' + encodeURIComponent(id)).then(function (answer) {
      if (answer.status !== 200) return;
      var checkout = answer.json;
      selectedView = checkout;
      renderTimeline(checkout);
      var instrumentId = checkout.payment && checkout.payment.instrument_id;
      return Promise.all([
        instrumentId ? api('financial_instruments/' + encodeURIComponent(instrumentId)).then(function (a) { return a.status === 200 ? a.json : null; }) : null,
        checkoutEvents(id)
      ]).then(function (results) {
        if (selected !== id) return;
        renderActions(checkout, results[0], results[1]);
        if (!quiet) { announce('Timeline of ' + id + ' loaded.'); el('timeline-title').focus(); }
      });
    });
  }
  function select(id) {
    selected = id;
    actionsShown = '';
    el('action-result').hidden = true;
    Array.prototype.forEach.call(document.querySelectorAll('#rows tr'), function (tr) {
      var on = tr.getAttribute('data-checkout') === id;
      var button = tr.querySelector('button');
      tr.className = on ? 'selected' : '';
      if (button) { if (on) button.setAttribute('aria-pressed', 'true'); else button.removeAttribute('aria-pressed'); }
    });
    loadTimeline(id, false);
  }
  function stopAuto() { if (timer) { clearInterval(timer); timer = null; } }
  function syncAuto() {
    stopAuto();
    if (el('auto').checked && key) timer = setInterval(function () { if (!el('confirm').open) loadList(true); }, 3000);
  }
  el('key-form').addEventListener('submit', function (event) {
    event.preventDefault();
    key = el('secret-key').value.trim();
    if (!key) { el('secret-key').focus(); return; }
    loadList(false).then(syncAuto);
  });
  el('filter-form').addEventListener('submit', function (event) { event.preventDefault(); applyFilters(false); });
  el('status-filter').addEventListener('change', function () { applyFilters(false); });
  el('refresh').addEventListener('click', function () { loadList(false); });
  el('auto').addEventListener('change', syncAuto);
  el('confirm-form').addEventListener('submit', function (event) { event.preventDefault(); runAction(); });
  el('confirm-cancel').addEventListener('click', function () { pending = null; el('confirm').close(); announce('Nothing was changed.'); });
  el('confirm').addEventListener('close', function () { pending = null; });
})();
`;

const BODY = `
<header class="topbar"><div class="inner"><span class="site">Paystep &middot; operations console</span><span class="pill warn">Local</span></div></header>
<main>
<h1>Checkouts</h1>
<p class="lead">Find a merchant&rsquo;s checkouts, follow each payment saga, and capture, refund, void or redeliver, all through the public API.</p>
<form id="key-form" class="keyform card" autocomplete="off">
<div class="field">
<label for="secret-key">Merchant secret key</label>
<input id="secret-key" name="secret-key" type="password" placeholder="sk_test_..." spellcheck="false" aria-describedby="key-hint" required>
<p id="key-hint" class="hint"><code>npm start</code> prints the demo merchant&rsquo;s key (&ldquo;Demo merchant secret key&rdquo;). It stays in this page&rsquo;s memory only.</p>
</div>
<button type="submit">Show checkouts</button>
</form>
<p id="error" class="notice bad" role="alert" hidden></p>
<section class="card operator" aria-labelledby="operator-title">
<h2 id="operator-title">Connectors, last hour</h2>
<form id="operator-form" class="keyform" autocomplete="off">
<div class="field">
<label for="admin-token">Platform admin token</label>
<input id="admin-token" name="admin-token" type="password" spellcheck="false" aria-describedby="admin-hint" required>
<p id="admin-hint" class="hint">The operator view needs the admin token (<code>npm start</code> prints it). It stays in this page&rsquo;s memory only.</p>
</div>
<button type="submit">Show connectors</button>
</form>
<p id="operator-error" class="notice bad" role="alert" hidden></p>
<div id="operator-panel" hidden>
<div class="table-wrap">
<table>
<thead><tr><th scope="col">Connector</th><th scope="col" class="num">Attempts</th><th scope="col" class="num">Authorized</th><th scope="col" class="num">Failed</th><th scope="col" class="num">Authorization rate</th><th scope="col" class="num">Failovers out</th><th scope="col" class="num">Failovers in</th></tr></thead>
<tbody id="connector-rows"></tbody>
</table>
</div>
<p id="operator-window" class="hint"></p>
</div>
</section>
<div id="results" hidden>
<section id="charts" class="charts" aria-label="Charts">
<figure class="chart card"><h3 id="chart-status-title">Checkouts per status over time</h3><div class="chart-box"><canvas id="chart-status" role="img" aria-labelledby="chart-status-title" aria-describedby="chart-status-summary"></canvas></div><figcaption id="chart-status-summary" class="chart-summary"></figcaption></figure>
<figure class="chart card"><h3 id="chart-auth-title">Authorization rate per connector</h3><div class="chart-box"><canvas id="chart-auth" role="img" aria-labelledby="chart-auth-title" aria-describedby="chart-auth-summary"></canvas></div><figcaption id="chart-auth-summary" class="chart-summary"></figcaption></figure>
<figure class="chart card"><h3 id="chart-latency-title">Pay Now &rarr; terminal latency</h3><div class="chart-box"><canvas id="chart-latency" role="img" aria-labelledby="chart-latency-title" aria-describedby="chart-latency-summary"></canvas></div><figcaption id="chart-latency-summary" class="chart-summary"></figcaption></figure>
</section>
<form id="filter-form" class="toolbar" role="search">
<div class="field grow"><label for="search">Order reference or customer email</label><input id="search" type="search" spellcheck="false" autocomplete="off"></div>
<div class="field"><label for="status-filter">Status</label><select id="status-filter"><option value="">All statuses</option><option>open</option><option>processing</option><option>succeeded</option><option>failed</option><option>expired</option><option>canceled</option></select></div>
<button type="submit">Search</button>
<button id="refresh" type="button" class="secondary">Refresh</button>
<label><input id="auto" type="checkbox" checked> Refresh every 3 seconds</label>
<span id="updated" class="muted"></span>
</form>
<div class="layout">
<section aria-labelledby="list-title">
<h2 id="list-title" class="visually-hidden">Checkout list</h2>
<p id="match-count" class="muted"></p>
<div class="table-wrap">
<table>
<thead><tr><th scope="col">Checkout</th><th scope="col">Order ref</th><th scope="col">Customer</th><th scope="col" class="num">Amount</th><th scope="col">Status</th><th scope="col">Failure</th><th scope="col">Created</th></tr></thead>
<tbody id="rows"></tbody>
</table>
</div>
<p id="empty" class="muted" hidden>No checkouts match.</p>
</section>
<section class="card" aria-labelledby="timeline-title">
<p id="timeline-empty" class="muted">Choose a checkout to see its timeline and actions.</p>
<div id="timeline-panel" hidden>
<h2 id="timeline-title" tabindex="-1">Timeline</h2>
<dl id="facts" class="facts"></dl>
<h3>Actions</h3>
<p id="action-result" class="notice ok" role="status" hidden></p>
<div id="actions" class="actions"></div>
<h3>Webhooks</h3>
<ul id="webhooks" class="webhooks"></ul>
<p id="webhooks-empty" class="muted" hidden>No webhook events about this checkout yet.</p>
<h3>Saga steps</h3>
<ol id="timeline" class="timeline"></ol>
</div>
</section>
</div>
</div>
<dialog id="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-text">
<form id="confirm-form" novalidate>
<h2 id="confirm-title">Confirm</h2>
<p id="confirm-text"></p>
<div id="amount-field" class="field"><label id="confirm-amount-label" for="confirm-amount">Amount</label><input id="confirm-amount" inputmode="decimal" autocomplete="off"></div>
<p id="confirm-error" class="error-text" role="alert" hidden></p>
<div class="buttons"><button id="confirm-cancel" type="button" class="secondary">Cancel</button><button id="confirm-go" type="submit">Confirm</button></div>
</form>
</dialog>
<p id="status" class="visually-hidden" role="status" aria-live="polite"></p>
</main>
`;

let page: ReturnType<typeof renderPage> | undefined;
function dashboardPage(): ReturnType<typeof renderPage> {
  page ??= renderPage({
    title: 'Checkouts - Paystep operations console',
    style: STYLE,
    script: SCRIPT,
    scriptFiles: [{ src: CHART_JS_PATH, integrity: chartJsFile().integrity }],
    data: { exponents: CURRENCY_EXPONENTS },
    body: BODY,
  });
  return page;
}

/**
 * The local API host's static hook: serves the console at `/dashboard` and Chart.js at
 * `/dashboard/vendor/chart.umd.min.js`, declines everything else (the host then answers its usual
 * JSON 404). The page is the same for everyone; data comes from the API with the key the operator enters.
 */
export function serveDashboard(request: IncomingMessage, response: ServerResponse): boolean {
  const path = (request.url ?? '/').split('?')[0];
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  if (path === CHART_JS_PATH) {
    request.resume();
    const file = chartJsFile();
    response.writeHead(200, {
      'content-type': 'text/javascript; charset=utf-8',
      'content-length': String(file.body.length),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    response.end(request.method === 'HEAD' ? undefined : file.body);
    return true;
  }
  if (path !== '/dashboard' && path !== '/dashboard/') return false;
  request.resume();
  sendPage(response, 200, dashboardPage());
  return true;
}
