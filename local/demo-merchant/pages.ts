/**
 * The demo merchant's HTML pages, as a buyer sees them: the shop (products with live stock counts
 * and a Buy button that posts to `/buy`, which creates the checkout server-side and redirects to
 * Paystep's hosted checkout; with an email the buyer buys as a customer whose card can be saved),
 * the order list (first orders and renewals, blocked / sold / released, refreshed live as Paystep's
 * webhooks arrive, with a "Charge renewal" button on a customer's paid order), and the `/thanks`
 * and `/sorry` return pages with the order and the reason. The JSON endpoints of server.ts stay as they are; these pages only read through them.
 */
import { currencyExponent } from '../../lambdas/domain/money';
import { escapeHtml, formatMoney, renderPage } from '../web/html';
import type { DemoOrder, DemoProduct } from './store';

type Page = ReturnType<typeof renderPage>;

/** Price for display; unknown currencies fall back to the raw minor units. */
export function displayMoney(amountMinor: number, currency: string): string {
  try {
    return formatMoney(amountMinor, currency, currencyExponent(currency));
  } catch {
    return `${amountMinor} ${currency} (minor units)`;
  }
}

const SHOP_STYLE = `
.products{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:1rem;list-style:none;margin:0;padding:0}
.product{display:flex;flex-direction:column;gap:.5rem}
.product h2{margin:0}
.price{font-size:1.25rem;font-weight:800;margin:0}
.stock{margin:0;font-size:.9375rem}
.stock strong{font-variant-numeric:tabular-nums}
.product form{margin-top:auto}
.product button{width:100%}
.account{display:flex;flex-wrap:wrap;align-items:end;gap:.5rem 1rem;margin:0 0 1.5rem}
.account label{display:block}
.account input{min-width:16rem}
.art{height:6rem;border-radius:.5rem;display:grid;place-items:center;font-size:2rem;font-weight:800;letter-spacing:.05em;color:#064e3b;background:linear-gradient(135deg,#d1fae5,#dbeafe)}
`;

const NAV = (current: 'shop' | 'orders' | 'none'): string => `
<header class="topbar"><div class="inner"><a class="site" href="/">Demo merchant</a>
<nav aria-label="Main"><ul><li><a href="/"${current === 'shop' ? ' aria-current="page"' : ''}>Shop</a></li><li><a href="/orders"${current === 'orders' ? ' aria-current="page"' : ''}>Orders</a></li></ul></nav>
<span class="pill warn">Test mode</span></div></header>`;

/** A monogram tile instead of a product photo (no image hosting, no emoji font needed). */
function monogram(name: string): string {
  const letters = name
    .split(/\s+/)
    .filter((word) => /^[A-Za-z]/.test(word))
    .map((word) => word[0]!.toUpperCase());
  return letters.slice(0, 2).join('') || '?';
}

function stockText(product: DemoProduct): string {
  if (product.stock === 0) return product.blocked > 0 ? 'Sold out (reserved by a payment in progress)' : 'Sold out';
  return `${product.stock} in stock${product.blocked > 0 ? `, ${product.blocked} reserved` : ''}`;
}

const SHOP_SCRIPT = `
(function () {
  'use strict';
  function stockText(p) {
    if (p.stock === 0) return p.blocked > 0 ? 'Sold out (reserved by a payment in progress)' : 'Sold out';
    return p.stock + ' in stock' + (p.blocked > 0 ? ', ' + p.blocked + ' reserved' : '');
  }
  function refresh() {
    fetch('/products', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (body) {
      body.products.forEach(function (p) {
        var stock = document.querySelector('[data-stock="' + CSS.escape(p.sku) + '"]');
        var button = document.querySelector('[data-buy="' + CSS.escape(p.sku) + '"]');
        if (stock && stock.textContent !== stockText(p)) stock.textContent = stockText(p);
        if (button && !button.hasAttribute('data-busy')) {
          button.disabled = p.stock === 0;
          button.textContent = p.stock === 0 ? 'Sold out' : 'Buy';
        }
      });
    }).catch(function () {}).then(function () { setTimeout(refresh, 2000); });
  }
  Array.prototype.forEach.call(document.querySelectorAll('form[data-buy-form]'), function (form) {
    form.addEventListener('submit', function () {
      form.querySelector('input[name=email]').value = document.getElementById('buyer-email').value.trim();
      var button = form.querySelector('button');
      button.setAttribute('data-busy', 'true');
      setTimeout(function () { button.disabled = true; button.textContent = 'Starting checkout\\u2026'; }, 0);
    });
  });
  setTimeout(refresh, 2000);
})();
`;

/** GET / (browser): the catalogue with live stock counts. */
export function renderShopPage(products: DemoProduct[], paystepOrigin: string | undefined): Page {
  const cards = products
    .map((product) => {
      const soldOut = product.stock === 0;
      const id = `product-${escapeHtml(product.sku)}`;
      return `<li class="product card" aria-labelledby="${id}">
<div class="art" aria-hidden="true">${escapeHtml(monogram(product.name))}</div>
<h2 id="${id}">${escapeHtml(product.name)}</h2>
<p class="price">${escapeHtml(displayMoney(product.unit_amount, product.currency))}</p>
<p class="stock" aria-live="polite"><span data-stock="${escapeHtml(product.sku)}">${escapeHtml(stockText(product))}</span></p>
<form method="post" action="/buy" data-buy-form>
<input type="hidden" name="sku" value="${escapeHtml(product.sku)}">
<input type="hidden" name="email" value="">
<button type="submit" data-buy="${escapeHtml(product.sku)}" aria-describedby="${id}"${soldOut ? ' disabled' : ''}>${soldOut ? 'Sold out' : 'Buy'}</button>
</form>
</li>`;
    })
    .join('\n');
  return renderPage({
    title: 'Shop - Demo merchant',
    style: SHOP_STYLE,
    script: SHOP_SCRIPT,
    formOrigins: paystepOrigin !== undefined ? [paystepOrigin] : [],
    body: `${NAV('shop')}
<main>
<h1>Shop</h1>
<p class="lead">Stock is confirmed and reserved while you pay, so nothing is ever oversold. Payment is handled by Paystep.</p>
<div class="account card"><div><label for="buyer-email">Your email (optional)</label>
<input id="buyer-email" type="email" autocomplete="email" spellcheck="false" aria-describedby="buyer-email-hint"></div>
<p id="buyer-email-hint" class="muted">With an email you buy as a customer: you may save your card at checkout, and we can charge renewals of your order with it.</p></div>
<ul class="products">
${cards}
</ul>
</main>`,
  });
}

const ORDER_STATE: Record<string, { label: string; kind: string }> = {
  pending: { label: 'Awaiting payment', kind: 'warn' },
  blocked: { label: 'Stock blocked', kind: 'info' },
  sold: { label: 'Sold', kind: 'ok' },
  released: { label: 'Released', kind: 'bad' },
  rejected: { label: 'Rejected', kind: 'bad' },
};

function stateLabel(state: string): { label: string; kind: string } {
  return ORDER_STATE[state] ?? { label: state, kind: '' };
}

function itemsText(order: DemoOrder): string {
  return order.items.map((item) => `${item.name ?? item.sku} × ${item.quantity}`).join(', ') || '—';
}

/** "Renewal of <ref>", "First order" (a customer's), or "Guest order". */
function kindText(order: DemoOrder): string {
  if (order.kind === 'renewal') return `Renewal of ${order.renewal_of ?? '?'}`;
  return order.customer_id !== null ? 'Order' : 'Guest order';
}

/** A paid order of a customer can be renewed: the merchant charges the saved card off-session. */
function renewalForm(order: DemoOrder): string {
  if (order.customer_id === null || order.state !== 'sold') return '';
  const ref = escapeHtml(order.merchant_order_ref);
  return `<form method="post" action="/renewals"><input type="hidden" name="order" value="${ref}"><button type="submit" class="secondary" data-renew="${ref}" aria-label="Charge renewal of ${ref}">Charge renewal</button></form>`;
}

function orderRow(order: DemoOrder): string {
  const state = stateLabel(order.state);
  const amount = order.amount_minor !== null && order.currency !== null ? displayMoney(order.amount_minor, order.currency) : '—';
  return (
    `<tr data-order="${escapeHtml(order.merchant_order_ref)}" data-kind="${escapeHtml(order.kind)}"><td class="mono">${escapeHtml(order.merchant_order_ref)}</td><td>${escapeHtml(kindText(order))}</td><td>${escapeHtml(order.customer_email ?? '—')}</td><td>${escapeHtml(itemsText(order))}</td>` +
    `<td class="num">${escapeHtml(amount)}</td><td><span class="pill ${state.kind}" data-state="${escapeHtml(order.state)}">${escapeHtml(state.label)}</span></td>` +
    `<td>${escapeHtml(order.rejection_reason ?? '')}</td><td class="mono">${escapeHtml(order.order_ref ?? '—')}</td><td class="muted">${escapeHtml(order.updated_at.slice(11, 19))} UTC</td><td>${renewalForm(order)}</td></tr>`
  );
}

function renderOrderRows(orders: DemoOrder[]): string {
  if (orders.length === 0) return '<tr><td colspan="10" class="muted">No orders yet.</td></tr>';
  return [...orders]
    .sort((a, b) => (a.created_at < b.created_at ? 1 : -1))
    .map(orderRow)
    .join('\n');
}

const ORDERS_SCRIPT = `
(function () {
  'use strict';
  function refresh() {
    fetch('/order-rows', { cache: 'no-store' }).then(function (r) { return r.ok ? r.text() : null; }).then(function (html) {
      var body = document.getElementById('order-rows');
      if (html !== null && body.getAttribute('data-html') !== html) {
        var template = document.createElement('template');
        template.innerHTML = '<table><tbody>' + html + '</tbody></table>';
        body.replaceChildren.apply(body, Array.prototype.slice.call(template.content.querySelector('tbody').children));
        body.setAttribute('data-html', html);
        document.getElementById('orders-status').textContent = 'Orders updated.';
      }
    }).catch(function () {}).then(function () { setTimeout(refresh, 1500); });
  }
  setTimeout(refresh, 1500);
})();
`;

/** The `<tr>` rows alone, for the orders page's live refresh (escaped server-side, like the page). */
export function renderOrderRowsFragment(orders: DemoOrder[]): string {
  return renderOrderRows(orders);
}

/** GET /orders (browser): every order and its stock state, refreshed every 1.5 s. */
export function renderOrdersPage(orders: DemoOrder[]): Page {
  return renderPage({
    title: 'Orders - Demo merchant',
    script: ORDERS_SCRIPT,
    body: `${NAV('orders')}
<main>
<h1>Orders</h1>
<p class="lead">Blocked when Paystep asks to confirm inventory; sold or released when Paystep&rsquo;s result webhook arrives. A customer&rsquo;s paid order can be renewed: the shop charges the card the customer saved, off-session.</p>
<div class="card">
<table>
<caption>Orders, newest first</caption>
<thead><tr><th scope="col">Order ref</th><th scope="col">Type</th><th scope="col">Customer</th><th scope="col">Items</th><th scope="col" class="num">Amount</th><th scope="col">State</th><th scope="col">Reason</th><th scope="col">Paystep checkout</th><th scope="col">Updated</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody id="order-rows">
${renderOrderRows(orders)}
</tbody>
</table>
</div>
<p id="orders-status" class="visually-hidden" role="status" aria-live="polite"></p>
</main>`,
  });
}

export interface ResultPageInput {
  outcome: 'thanks' | 'sorry';
  merchantOrderRef: string | null;
  order: DemoOrder | undefined;
  /** What Paystep says about the checkout (read server-side with the secret key), if known. */
  checkout: { status: string; failure_reason: string | null; failure_message: string | null } | undefined;
  /** The `failure_reason` query parameter (untrusted; used only when Paystep could not be asked). */
  failureReasonParam: string | null;
}

const DECLINE_TEXT: Record<string, string> = {
  card_declined: 'The card was declined by the bank.',
  insufficient_funds: 'The card has insufficient funds.',
  expired_card: 'The card has expired.',
};

const REASON_TEXT: Record<string, string> = {
  payment_declined: 'The card was declined.',
  inventory_rejected: 'The item could not be reserved.',
  inventory_timeout: 'We could not confirm stock in time.',
  inventory_unreachable: 'Our stock system could not be reached.',
  psp_error: 'The payment provider had a problem.',
  expired: 'The checkout expired.',
  canceled: 'The checkout was canceled.',
};

const RESULT_STYLE = `
.result{max-width:40rem}
.result dl{display:grid;grid-template-columns:auto 1fr;gap:.375rem 1rem;margin:1rem 0}
.result dt{font-weight:600;color:var(--muted)}
.result dd{margin:0}
.actions{display:flex;gap:1rem;flex-wrap:wrap;margin-top:1.25rem}
`;

const RESULT_SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('page-data').textContent);
  if (!data.ref || data.final) return;
  var LABELS = { pending: 'Awaiting payment', blocked: 'Stock blocked', sold: 'Sold', released: 'Released', rejected: 'Rejected' };
  var tries = 0;
  function refresh() {
    tries += 1;
    fetch('/orders/' + encodeURIComponent(data.ref), { cache: 'no-store' }).then(function (r) { return r.ok ? r.json() : null; }).then(function (order) {
      var state = document.getElementById('order-state');
      if (order && state.getAttribute('data-state') !== order.state) {
        state.setAttribute('data-state', order.state);
        state.textContent = LABELS[order.state] || order.state;
        if (order.state === 'sold' || order.state === 'released') return;
      }
      if (tries < 40) setTimeout(refresh, 1000);
    }).catch(function () { if (tries < 40) setTimeout(refresh, 1000); });
  }
  setTimeout(refresh, 500);
})();
`;

/** GET /thanks and /sorry: the order, its stock state (live until final) and, for /sorry, the reason. */
export function renderResultPage(input: ResultPageInput): Page {
  const { order } = input;
  const ok = input.outcome === 'thanks';
  const declineCode = input.checkout?.failure_reason === 'payment_declined' ? input.checkout.failure_message : null;
  const reason = ok
    ? undefined
    : declineCode !== null
      ? (DECLINE_TEXT[declineCode] ?? `The card was declined (${declineCode}).`)
      : (input.checkout?.failure_message ??
        order?.rejection_reason ??
        REASON_TEXT[input.checkout?.failure_reason ?? input.failureReasonParam ?? ''] ??
        'The payment did not go through.');
  const state = order !== undefined ? stateLabel(order.state) : undefined;
  const amount =
    order?.amount_minor != null && order.currency !== null ? displayMoney(order.amount_minor, order.currency) : undefined;
  const ref = input.merchantOrderRef ?? order?.merchant_order_ref ?? null;
  const rows = [
    ref !== null ? `<dt>Order</dt><dd><code data-testid="merchant-order-ref">${escapeHtml(ref)}</code></dd>` : '',
    order !== undefined ? `<dt>Items</dt><dd>${escapeHtml(itemsText(order))}</dd>` : '',
    amount !== undefined ? `<dt>Total</dt><dd>${escapeHtml(amount)}</dd>` : '',
    state !== undefined && order !== undefined
      ? `<dt>Order state</dt><dd><span id="order-state" class="pill ${state.kind}" data-state="${escapeHtml(order.state)}" aria-live="polite">${escapeHtml(state.label)}</span></dd>`
      : '',
  ].join('');
  return renderPage({
    title: `${ok ? 'Thank you!' : 'Sorry'} - Demo merchant`,
    style: RESULT_STYLE,
    script: RESULT_SCRIPT,
    data: { ref: order?.order_ref ?? ref, final: order === undefined || order.state === 'sold' || order.state === 'released' },
    body: `${NAV('none')}
<main>
<section class="result card">
<h1>${ok ? 'Thank you!' : 'Sorry'}</h1>
<p>${ok ? 'Your payment succeeded and your order is on its way.' : 'Your payment did not go through. Nothing was charged.'}</p>
${reason !== undefined ? `<p class="notice bad" data-testid="failure-reason"><strong>Reason:</strong> ${escapeHtml(reason)}</p>` : ''}
${rows !== '' ? `<dl>${rows}</dl>` : ''}
<div class="actions"><a class="button" href="/">Continue shopping</a><a href="/orders">See all orders</a></div>
</section>
</main>`,
  });
}

/** A readable page for a Buy that could not start (unknown product, Paystep down). */
export function renderBuyErrorPage(status: number, message: string): Page {
  return renderPage({
    title: 'Could not start checkout - Demo merchant',
    body: `${NAV('none')}
<main><section class="card"><h1>We could not start your checkout</h1>
<p class="notice bad" role="alert">${escapeHtml(message)} (HTTP ${status})</p>
<p><a class="button" href="/">Back to the shop</a></p></section></main>`,
  });
}
