/**
 * The local operator dashboard (`GET /dashboard` on the local API host, through its static hook):
 * one page that uses the public API with a merchant secret key the operator types in (npm start
 * prints the demo merchant's) to list the merchant's checkouts (`GET /v1/checkouts`) and show each
 * checkout's saga timeline from `GET /v1/checkouts/{id}` `events[]`: authorized, inventory
 * confirmation sent and answered (with `data.latency_ms`), captured or voided, webhook attempts.
 * Local only: it is not deployed, and the key lives in the page's memory, never in storage or URLs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CURRENCY_EXPONENTS } from '../../lambdas/web-checkout/checkout-page';
import { renderPage, sendPage } from '../web/html';

const STYLE = `
.keyform{display:flex;gap:.75rem;align-items:flex-end;flex-wrap:wrap;margin-bottom:1rem}
.keyform .field{display:flex;flex-direction:column;gap:.25rem;flex:1 1 22rem}
.keyform input{width:100%}
.hint{font-size:.875rem;color:var(--muted);margin:.25rem 0 0}
.toolbar{display:flex;gap:1rem;align-items:center;flex-wrap:wrap;margin:0 0 .75rem}
main{max-width:96rem}
.topbar .inner{max-width:96rem}
.layout{display:grid;grid-template-columns:minmax(0,1fr) 26rem;gap:1.25rem;align-items:start}
@media (max-width:70rem){.layout{grid-template-columns:1fr}}
td.mono,td.when{white-space:nowrap}
.table-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:.75rem}
tr.selected td{background:#ecfdf5}
button.link{background:none;color:var(--info);padding:0;font-weight:600;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.875rem;text-decoration:underline;border-radius:.25rem}
button.link:hover{background:none;color:#1e3a8a}
.timeline{list-style:none;margin:0;padding:0;border-left:3px solid var(--line)}
.timeline li{position:relative;margin:0 0 1rem;padding-left:1rem}
.timeline li::before{content:"";position:absolute;left:-.5rem;top:.45rem;width:.75rem;height:.75rem;border-radius:50%;background:#9ca3af}
.timeline li.ok::before{background:#16a34a}
.timeline li.bad::before{background:#dc2626}
.timeline li.info::before{background:#2563eb}
.step{font-weight:700}
.when{font-size:.8125rem;color:var(--muted);font-variant-numeric:tabular-nums}
.detail{font-size:.875rem;margin:.125rem 0 0}
.latency{font-weight:700}
dl.facts{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:0 0 1rem;font-size:.9375rem}
dl.facts dt{font-weight:600;color:var(--muted)}
dl.facts dd{margin:0}
`;

const SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('page-data').textContent);
  var apiBase = new URL('/v1/', location.href);
  var key = '';
  var selected = null;
  var timer = null;
  function el(id) { return document.getElementById(id); }
  function text(tag, content, className) {
    var node = document.createElement(tag);
    if (content !== undefined && content !== null) node.textContent = String(content);
    if (className) node.className = className;
    return node;
  }
  function announce(message) { el('status').textContent = message; }
  function api(path) {
    return fetch(new URL(path, apiBase), { headers: { authorization: 'Bearer ' + key, accept: 'application/json' }, cache: 'no-store' })
      .then(function (response) { return response.json().then(function (json) { return { status: response.status, json: json }; }); });
  }
  function money(minor, currency) {
    var exponent = Object.prototype.hasOwnProperty.call(data.exponents, currency) ? data.exponents[currency] : 2;
    var digits = String(Math.abs(minor));
    if (exponent > 0) {
      while (digits.length <= exponent) digits = '0' + digits;
      digits = digits.slice(0, digits.length - exponent) + '.' + digits.slice(digits.length - exponent);
    }
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: currency, minimumFractionDigits: exponent, maximumFractionDigits: exponent })
      .format((minor < 0 ? '-' : '') + digits);
  }
  function time(iso) {
    var d = new Date(iso);
    return d.toLocaleTimeString(undefined, { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
  }
  function dateTime(iso) { return new Date(iso).toLocaleDateString(undefined, { month: 'short', day: 'numeric' }) + ' ' + time(iso); }
  var STATUS_CLASS = { succeeded: 'ok', failed: 'bad', expired: 'bad', canceled: 'bad', processing: 'info', open: 'warn' };
  function pill(status) { return text('span', status, 'pill ' + (STATUS_CLASS[status] || '')); }

  function renderList(list) {
    var body = el('rows');
    body.textContent = '';
    el('empty').hidden = list.length > 0;
    list.forEach(function (c) {
      var tr = document.createElement('tr');
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
      tr.appendChild(text('td', money(c.amount, c.currency), 'num'));
      var statusCell = document.createElement('td');
      statusCell.appendChild(pill(c.status));
      tr.appendChild(statusCell);
      tr.appendChild(text('td', c.failure_reason || ''));
      tr.appendChild(text('td', dateTime(c.created_at), 'when'));
      body.appendChild(tr);
    });
  }

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
    [['Status', pill(checkout.status)], ['Amount', money(checkout.amount, checkout.currency)], ['Order ref', checkout.merchant_order_ref],
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
        var p = text('p', undefined, 'detail');
        parts.forEach(function (part, i) {
          if (i) p.appendChild(document.createTextNode(' \\u00b7 '));
          p.appendChild(text('span', part.text, part.latency ? 'latency' : ''));
        });
        li.appendChild(p);
      }
      list.appendChild(li);
    });
  }

  function loadList(quiet) {
    return api('checkouts?limit=50').then(function (answer) {
      if (answer.status !== 200) {
        el('error').textContent = (answer.json && answer.json.error && answer.json.error.message) || ('The API answered HTTP ' + answer.status);
        el('error').hidden = false;
        el('results').hidden = true;
        stopAuto();
        announce('Could not load checkouts.');
        return;
      }
      el('error').hidden = true;
      el('results').hidden = false;
      renderList(answer.json.data);
      el('updated').textContent = 'Updated ' + time(new Date().toISOString());
      if (!quiet) announce(answer.json.data.length + ' checkouts loaded.');
      if (selected) return loadTimeline(selected, true);
    }, function () { announce('The API could not be reached.'); });
  }
  function loadTimeline(id, quiet) {
    return api('checkouts/' + encodeURIComponent(id)).then(function (answer) {
      if (answer.status === 200) {
        renderTimeline(answer.json);
        if (!quiet) { announce('Timeline of ' + id + ' loaded.'); el('timeline-title').focus(); }
      }
    });
  }
  function select(id) {
    selected = id;
    Array.prototype.forEach.call(document.querySelectorAll('#rows tr'), function (tr) {
      var button = tr.querySelector('button');
      var on = button && button.textContent === id;
      tr.className = on ? 'selected' : '';
      if (button) { if (on) button.setAttribute('aria-pressed', 'true'); else button.removeAttribute('aria-pressed'); }
    });
    loadTimeline(id, false);
  }
  function stopAuto() { if (timer) { clearInterval(timer); timer = null; } }
  function syncAuto() {
    stopAuto();
    if (el('auto').checked && key) timer = setInterval(function () { loadList(true); }, 3000);
  }
  el('key-form').addEventListener('submit', function (event) {
    event.preventDefault();
    key = el('secret-key').value.trim();
    if (!key) { el('secret-key').focus(); return; }
    loadList(false).then(syncAuto);
  });
  el('refresh').addEventListener('click', function () { loadList(false); });
  el('auto').addEventListener('change', syncAuto);
})();
`;

const BODY = `
<header class="topbar"><div class="inner"><span class="site">Paystep &middot; operator dashboard</span><span class="pill warn">Local</span></div></header>
<main>
<h1>Checkouts</h1>
<p class="lead">Every checkout of one merchant and the steps of its payment saga, read through the public API.</p>
<form id="key-form" class="keyform card" autocomplete="off">
<div class="field">
<label for="secret-key">Merchant secret key</label>
<input id="secret-key" name="secret-key" type="password" placeholder="sk_test_..." spellcheck="false" aria-describedby="key-hint" required>
<p id="key-hint" class="hint"><code>npm start</code> prints the demo merchant&rsquo;s key (&ldquo;Demo merchant secret key&rdquo;). It stays in this page&rsquo;s memory only.</p>
</div>
<button type="submit">Show checkouts</button>
</form>
<p id="error" class="notice bad" role="alert" hidden></p>
<div id="results" hidden>
<div class="toolbar">
<button id="refresh" type="button" class="secondary">Refresh</button>
<label><input id="auto" type="checkbox" checked> Refresh every 3 seconds</label>
<span id="updated" class="muted"></span>
</div>
<div class="layout">
<section aria-labelledby="list-title">
<h2 id="list-title" class="visually-hidden">Checkout list</h2>
<div class="table-wrap">
<table>
<thead><tr><th scope="col">Checkout</th><th scope="col">Order ref</th><th scope="col" class="num">Amount</th><th scope="col">Status</th><th scope="col">Failure</th><th scope="col">Created</th></tr></thead>
<tbody id="rows"></tbody>
</table>
</div>
<p id="empty" class="muted" hidden>No checkouts yet. Buy something in the demo shop.</p>
</section>
<section class="card" aria-labelledby="timeline-title">
<p id="timeline-empty" class="muted">Choose a checkout to see its timeline.</p>
<div id="timeline-panel" hidden>
<h2 id="timeline-title" tabindex="-1">Timeline</h2>
<dl id="facts" class="facts"></dl>
<ol id="timeline" class="timeline"></ol>
</div>
</section>
</div>
</div>
<p id="status" class="visually-hidden" role="status" aria-live="polite"></p>
</main>
`;

const PAGE = renderPage({ title: 'Checkouts - Paystep dashboard', style: STYLE, script: SCRIPT, data: { exponents: CURRENCY_EXPONENTS }, body: BODY });

/**
 * The local API host's static hook: serves the dashboard at `/dashboard`, declines everything else
 * (the host then answers its usual JSON 404). The page is the same for everyone; data comes from
 * the API with the key the operator enters.
 */
export function serveDashboard(request: IncomingMessage, response: ServerResponse): boolean {
  const path = (request.url ?? '/').split('?')[0];
  if (path !== '/dashboard' && path !== '/dashboard/') return false;
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  request.resume();
  sendPage(response, 200, PAGE);
  return true;
}
