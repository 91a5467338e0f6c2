/**
 * The hosted checkout page the buyer lands on (`checkout_url`): one self-contained HTML document
 * with inline CSS and JS, no framework. The page is static per checkout id: it holds no order
 * data and no secret. In the browser it reads the checkout's client secret from the URL fragment
 * (`#cs_...`, never sent to any server), loads the public view from the API, sends the card to
 * Paystep's card vault (POST /v1/payment_methods with the client secret; the merchant never sees
 * the number), pays with the vault's `pm_`, then polls the status as the pending page and shows
 * the result. When the checkout offers it (a customer and `save_payment_method`), a "Save my card"
 * checkbox asks the buyer's consent, sent with the pay call. After a success it returns the buyer to the
 * merchant's success URL after a countdown the buyer can stop ("Stay on this page", WCAG 2.2.1);
 * after a failure, cancellation or expiry it never redirects by itself: the buyer reads the reason
 * and follows the "Return to ..." link when ready. Card number, expiry (MM/YY, not in the past) and
 * CVC are checked in the page before anything is sent to the vault.
 *
 * The inline script and style are allowed by their SHA-256 hashes in a strict
 * Content-Security-Policy; `connect-src` allows only this origin (the API, where the vault is).
 */
import { createHash } from 'node:crypto';
import { data as currencyData } from 'currency-codes';

/** Minor-unit exponents from the ISO 4217 dataset, embedded so the browser never guesses them. */
export const CURRENCY_EXPONENTS: Readonly<Record<string, number>> = Object.fromEntries(
  currencyData.filter((entry) => Number.isInteger(entry.digits) && entry.digits >= 0).map((entry) => [entry.code, entry.digits]),
);

const STYLE = `
:root{color-scheme:light;--ink:#111827;--muted:#4b5563;--line:#d1d5db;--bg:#f3f4f6;--card:#fff;--brand:#1d4ed8;--brand-dark:#1e3a8a;--ok:#166534;--ok-bg:#dcfce7;--bad:#991b1b;--bad-bg:#fee2e2;--focus:#b45309}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif}
.page{max-width:30rem;margin:2rem auto;padding:0 1rem}
.brand{display:flex;align-items:center;gap:.5rem;font-weight:600;color:var(--muted);margin-bottom:1rem}
.logo{display:inline-grid;place-items:center;width:1.75rem;height:1.75rem;border-radius:.4rem;background:var(--brand);color:#fff;font-weight:700}
.badge{margin-left:auto;font-size:.75rem;font-weight:700;letter-spacing:.04em;text-transform:uppercase;background:#fef3c7;color:#78350f;padding:.15rem .5rem;border-radius:999px}
.card{background:var(--card);border:1px solid var(--line);border-radius:.75rem;padding:1.5rem;box-shadow:0 1px 3px rgba(0,0,0,.06)}
h1{font-size:1.375rem;line-height:1.3;margin:0 0 1rem}
h2{font-size:1rem;margin:0 0 .75rem}
h1:focus{outline:none}
.items{list-style:none;margin:0 0 .75rem;padding:0}
.items li{display:flex;justify-content:space-between;gap:1rem;padding:.5rem 0;border-bottom:1px solid var(--line)}
.qty{color:var(--muted)}
.total{display:flex;justify-content:space-between;font-weight:700;font-size:1.125rem;margin:0 0 1.5rem}
.field{margin-bottom:1rem}
.row{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
label{display:block;font-weight:600;margin-bottom:.25rem}
input{width:100%;font:inherit;padding:.625rem .75rem;border:1px solid #6b7280;border-radius:.5rem;background:#fff;color:var(--ink)}
input[aria-invalid=true]{border-color:var(--bad);border-width:2px}
.hint{margin:.25rem 0 0;font-size:.875rem;color:var(--muted)}
.check{display:grid;grid-template-columns:auto 1fr;gap:0 .5rem;align-items:center}
.check input{width:1.25rem;height:1.25rem;margin:0}
.check label{margin:0}
.check .hint{grid-column:2}
.error{margin:.25rem 0 0;font-size:.875rem;color:var(--bad);font-weight:600}
.alert{background:var(--bad-bg);color:var(--bad);border-radius:.5rem;padding:.75rem;font-weight:600}
button,.button-link{display:block;width:100%;text-align:center;font:inherit;font-weight:700;font-size:1.0625rem;padding:.75rem 1rem;border:0;border-radius:.5rem;background:var(--brand);color:#fff;cursor:pointer;text-decoration:none}
button:hover,.button-link:hover{background:var(--brand-dark)}
button:disabled{background:#6b7280;cursor:not-allowed}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.fineprint{font-size:.875rem;color:var(--muted);margin:1rem 0 0;text-align:center}
.center{text-align:center}
.spinner{width:3rem;height:3rem;margin:.5rem auto 1rem;border-radius:50%;border:.35rem solid #dbeafe;border-top-color:var(--brand);animation:spin 1s linear infinite}
@keyframes spin{to{transform:rotate(360deg)}}
@media (prefers-reduced-motion:reduce){.spinner{animation-duration:4s}}
.result-icon{width:3.5rem;height:3.5rem;margin:.5rem auto 1rem;border-radius:50%;display:grid;place-items:center;font-size:2rem;font-weight:700}
.result-ok .result-icon{background:var(--ok-bg);color:var(--ok)}
.result-bad .result-icon{background:var(--bad-bg);color:var(--bad)}
.result-ok h1{color:var(--ok)}
.result-bad h1{color:var(--bad)}
.secondary{background:#fff;color:var(--brand);border:2px solid var(--brand);margin-top:.5rem}
.secondary:hover{background:#eff6ff;color:var(--brand-dark)}
.reason{background:var(--bad-bg);color:var(--bad);border-radius:.5rem;padding:.75rem;font-weight:600}
.visually-hidden{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
[hidden]{display:none!important}
`;

// Plain ES2019 in a string (no template literals inside), so it needs no build step and runs in
// every evergreen browser. Keep it free of `${` and backticks.
const SCRIPT = `
(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('paystep-config').textContent);
  var apiBase = new URL('../v1/', location.href);
  var secret = '';
  try { secret = decodeURIComponent(location.hash.slice(1)); } catch (e) { secret = ''; }
  // 3-D Secure: the bank's challenge page sends the buyer back without the #fragment, so the
  // secret is kept for this tab only (sessionStorage) and read again on the return.
  var secretKey = 'paystep:' + config.checkoutId;
  var returnedFromBank = /[?&]three_ds=return(&|$)/.test(location.search);
  try {
    if (/^cs_/.test(secret)) sessionStorage.setItem(secretKey, secret);
    else secret = sessionStorage.getItem(secretKey) || '';
  } catch (e) { /* storage disabled: the return shows the incomplete-link message */ }
  var views = ['view-loading', 'view-error', 'view-pay', 'view-pending', 'view-result'];
  var merchantName = 'the merchant';
  var paySent = false;
  var payKey = newKey();
  var pollStarted = 0;

  function el(id) { return document.getElementById(id); }
  function show(id, focusId) {
    views.forEach(function (view) { el(view).hidden = view !== id; });
    if (focusId) el(focusId).focus();
  }
  function announce(text) { el('status').textContent = text; }
  function newKey() {
    if (window.crypto && crypto.randomUUID) return 'pay-' + crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return 'pay-' + Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  function exponentOf(currency) {
    if (Object.prototype.hasOwnProperty.call(config.exponents, currency)) return config.exponents[currency];
    return new Intl.NumberFormat('en', { style: 'currency', currency: currency }).resolvedOptions().maximumFractionDigits;
  }
  // Minor units -> a decimal string in major units, by string manipulation (no float arithmetic).
  function majorUnits(minor, exponent) {
    var negative = minor < 0;
    var digits = String(Math.abs(minor));
    if (exponent > 0) {
      while (digits.length <= exponent) digits = '0' + digits;
      digits = digits.slice(0, digits.length - exponent) + '.' + digits.slice(digits.length - exponent);
    }
    return (negative ? '-' : '') + digits;
  }
  function formatMoney(minor, currency) {
    var exponent = exponentOf(currency);
    var format = new Intl.NumberFormat(navigator.languages && navigator.languages.length ? navigator.languages : undefined, {
      style: 'currency', currency: currency, minimumFractionDigits: exponent, maximumFractionDigits: exponent
    });
    return format.format(majorUnits(minor, exponent));
  }

  function api(method, path, body, extraHeaders) {
    var headers = { authorization: 'Bearer ' + secret, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    Object.keys(extraHeaders || {}).forEach(function (name) { headers[name] = extraHeaders[name]; });
    return fetch(new URL(path, apiBase), {
      method: method, headers: headers, cache: 'no-store', credentials: 'omit',
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.text().then(function (text) {
        var json = null;
        try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
        return { status: response.status, json: json };
      });
    });
  }
  function errorMessage(answer, fallback) {
    return answer && answer.json && answer.json.error && answer.json.error.message ? answer.json.error.message : fallback;
  }

  // A mistyped, cut or stale link (unknown checkout, wrong client secret): buyer words, not the API's.
  function wrongLink() {
    fail('This payment link doesn\\u2019t work', 'The link may be mistyped, cut short or from another order. Please go back to the shop and start the checkout again. You have not been charged.');
  }

  function fail(title, message) {
    el('error-title').textContent = title;
    el('error-message').textContent = message;
    show('view-error', 'error-title');
    announce(title);
  }

  var REASONS = {
    payment_declined: 'Your card was declined.',
    inventory_rejected: 'The merchant could not reserve your items.',
    inventory_timeout: 'The merchant did not confirm your order in time.',
    inventory_unreachable: 'The merchant could not be reached to confirm your order.',
    psp_error: 'The payment provider could not complete the payment.',
    authentication_failed: 'Your bank could not confirm it was you (3-D Secure). You have not been charged.',
    authentication_required: 'Your bank needs you to confirm this payment, which was not possible here.',
    expired: 'This checkout expired.',
    canceled: 'This checkout was canceled.'
  };
  // The PSP's decline codes (failure_message of payment_declined), in words a buyer understands.
  var DECLINES = {
    card_declined: 'Your card was declined by your bank.',
    insufficient_funds: 'Your card has insufficient funds.',
    expired_card: 'Your card has expired.'
  };
  function reasonText(status) {
    if (/^authentication_/.test(status.failure_reason || '')) return REASONS[status.failure_reason];
    if (status.failure_reason === 'payment_declined' && status.failure_message) {
      return DECLINES[status.failure_message] || ('Your card was declined (' + status.failure_message + ').');
    }
    return status.failure_message || REASONS[status.failure_reason] || REASONS[status.status] || 'The payment did not go through.';
  }

  function renderSummary(checkout) {
    merchantName = checkout.merchant_name || merchantName;
    el('merchant-name').textContent = merchantName;
    document.title = 'Pay ' + merchantName + ' - Paystep';
    var list = el('items');
    list.textContent = '';
    checkout.items.forEach(function (item) {
      var li = document.createElement('li');
      var name = document.createElement('span');
      name.textContent = item.name || item.sku;
      var qty = document.createElement('span');
      qty.className = 'qty';
      qty.textContent = ' \\u00d7 ' + item.quantity;
      name.appendChild(qty);
      var price = document.createElement('span');
      price.textContent = item.unit_amount === null ? '' : formatMoney(item.unit_amount * item.quantity, checkout.currency);
      li.appendChild(name);
      li.appendChild(price);
      list.appendChild(li);
    });
    el('total').textContent = formatMoney(checkout.amount, checkout.currency);
  }

  var RESULT_TITLES = { succeeded: 'Payment successful', canceled: 'Checkout canceled', expired: 'Checkout expired' };
  var REDIRECT_SECONDS = 5;
  var redirectTimer = null;
  var countdownTimer = null;
  function stopRedirect(message) {
    if (redirectTimer) clearTimeout(redirectTimer);
    if (countdownTimer) clearInterval(countdownTimer);
    redirectTimer = null;
    countdownTimer = null;
    el('stay-button').hidden = true;
    el('redirect-note').textContent = message;
  }
  function showResult(status) {
    var ok = status.status === 'succeeded';
    var box = el('view-result');
    box.className = 'center ' + (ok ? 'result-ok' : 'result-bad');
    el('result-icon').textContent = ok ? '\\u2713' : '!';
    el('result-title').textContent = RESULT_TITLES[status.status] || 'Payment failed';
    document.title = el('result-title').textContent + ' - Paystep';
    var reason = el('result-reason');
    if (ok) {
      el('result-message').textContent = 'Thank you! ' + merchantName + ' confirmed your order and your card was charged.';
      reason.hidden = true;
    } else {
      el('result-message').textContent = status.status === 'failed'
        ? 'Your order was not completed and you have not been charged.'
        : 'Your order was not completed and you have not been charged. To buy, start again at ' + merchantName + '.';
      reason.textContent = reasonText(status);
      reason.hidden = status.status !== 'failed';
    }
    var link = el('result-link');
    el('stay-button').hidden = true;
    el('redirect-note').textContent = '';
    if (status.redirect_url) {
      link.href = status.redirect_url;
      link.textContent = 'Return to ' + merchantName;
      link.hidden = false;
      if (ok) {
        // Only a success moves on by itself, and the buyer can stop it (WCAG 2.2.1 Timing Adjustable).
        var left = REDIRECT_SECONDS;
        el('redirect-note').textContent = 'Returning you to ' + merchantName + ' in ' + left + ' seconds.';
        el('stay-button').hidden = false;
        countdownTimer = setInterval(function () {
          left = Math.max(left - 1, 1);
          el('redirect-note').textContent = 'Returning you to ' + merchantName + ' in ' + left + ' seconds.';
        }, 1000);
        redirectTimer = setTimeout(function () { stopRedirect(''); location.assign(status.redirect_url); }, REDIRECT_SECONDS * 1000);
      }
    } else {
      link.hidden = true;
    }
    show('view-result', 'result-title');
    announce(el('result-title').textContent + '. ' + (reason.hidden ? '' : reason.textContent + ' ') + el('redirect-note').textContent);
  }

  function isTerminal(status) { return status === 'succeeded' || status === 'failed' || status === 'expired' || status === 'canceled'; }

  // Another card after a decline: the checkout is open again with last_payment_error (max_payment_attempts).
  function retryText(error) {
    return (DECLINES[error.code] || error.message || 'Your card was declined.') + ' Please try another card.';
  }
  function showRetry(checkout) {
    paySent = false;
    payKey = newKey();
    ['card-number', 'card-expiry', 'card-cvc'].forEach(function (id) { el(id).value = ''; fieldError(id, ''); });
    formError('');
    setBusy(false, 'Pay Now');
    var box = el('retry-error');
    box.textContent = retryText(checkout.last_payment_error);
    box.hidden = false;
    show('view-pay', 'card-number');
    announce(box.textContent);
  }
  function reopened(checkout) { return checkout.status === 'open' && !!checkout.last_payment_error; }

  function poll() {
    if (!pollStarted) pollStarted = Date.now();
    api('GET', 'checkouts/' + encodeURIComponent(config.checkoutId) + '/status').then(function (answer) {
      if (answer.status === 200 && answer.json && isTerminal(answer.json.status)) { showResult(answer.json); return; }
      if (answer.status === 200 && answer.json && reopened(answer.json)) { showRetry(answer.json); return; }
      if (answer.status === 200 && answer.json && answer.json.status === 'requires_action' && !returnedFromBank) {
        followNextAction(answer.json.next_action);
        return;
      }
      if (answer.status === 401 || answer.status === 404) { wrongLink(); return; }
      el('pending-note').hidden = answer.status === 200;
      schedulePoll();
    }, function () {
      el('pending-note').hidden = false;
      schedulePoll();
    });
  }
  function schedulePoll() { setTimeout(poll, Date.now() - pollStarted > 60000 ? 3000 : 1000); }
  // 3-D Secure: the bank's challenge page; it sends the buyer back here (?three_ds=return) with the result.
  function followNextAction(action) {
    if (!action || action.type !== 'redirect_to_url' || !action.redirect_to_url || !/^https?:/.test(action.redirect_to_url.url)) {
      schedulePoll();
      return;
    }
    el('pending-title').textContent = 'Confirm the payment with your bank';
    announce('Your bank asks you to confirm this payment. Taking you to your bank\u2019s page.');
    location.assign(action.redirect_to_url.url);
  }
  function showPending() {
    show('view-pending', 'pending-title');
    announce('Payment accepted. Confirming your order with ' + merchantName + '. Please keep this page open.');
    poll();
  }

  function fieldError(id, message) {
    var input = el(id);
    var error = el(id + '-error');
    if (message) {
      input.setAttribute('aria-invalid', 'true');
      error.textContent = message;
      error.hidden = false;
    } else {
      input.removeAttribute('aria-invalid');
      error.textContent = '';
      error.hidden = true;
    }
    return !message;
  }
  function luhn(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var d = Number(digits.charAt(digits.length - 1 - i));
      if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return sum % 10 === 0;
  }
  function readCard() {
    var number = el('card-number').value.replace(/[\\s-]/g, '');
    var expiry = el('card-expiry').value.replace(/\\s/g, '');
    var cvc = el('card-cvc').value.trim();
    var match = /^(\\d{2})\\/(\\d{2})$/.exec(expiry);
    var month = match ? Number(match[1]) : 0;
    var year = match ? 2000 + Number(match[2]) : 0;
    var now = new Date();
    var expiryError = '';
    if (!match || month < 1 || month > 12) expiryError = 'Enter the expiry date as MM/YY, for example 08/29.';
    else if (year < now.getFullYear() || (year === now.getFullYear() && month < now.getMonth() + 1)) expiryError = 'This card has expired. Check the expiry date or use another card.';
    else if (year > now.getFullYear() + 20) expiryError = 'Check the expiry date: it is too far in the future.';
    var ok = [
      fieldError('card-number', /^\\d{12,19}$/.test(number) && luhn(number) ? '' : 'Enter a valid card number.'),
      fieldError('card-expiry', expiryError),
      fieldError('card-cvc', /^\\d{3,4}$/.test(cvc) ? '' : 'Enter the 3 or 4 digit security code.')
    ];
    var firstBad = ['card-number', 'card-expiry', 'card-cvc'].filter(function (id, i) { return !ok[i]; })[0];
    if (firstBad) { el(firstBad).focus(); return null; }
    return { number: number, exp_month: month, exp_year: year, cvc: cvc };
  }
  // The vault's 422 param -> the field to flag.
  var VAULT_PARAMS = { 'card.number': 'card-number', 'card.exp_month': 'card-expiry', 'card.exp_year': 'card-expiry', 'card.cvc': 'card-cvc' };

  // Types the slash of MM/YY for the buyer: '1234' becomes '12/34', '1' stays '1', '2' becomes '02/'.
  function formatExpiry(event) {
    var input = el('card-expiry');
    var digits = input.value.replace(/\\D/g, '').slice(0, 4);
    if (digits.length === 1 && Number(digits) > 1) digits = '0' + digits;
    var deleting = event && event.inputType && event.inputType.indexOf('delete') === 0;
    var formatted = digits.length > 2 || (digits.length === 2 && !deleting) ? digits.slice(0, 2) + '/' + digits.slice(2) : digits;
    if (formatted !== input.value) input.value = formatted;
  }

  function setBusy(busy, label) {
    var button = el('pay-button');
    button.disabled = busy;
    button.setAttribute('aria-disabled', busy ? 'true' : 'false');
    button.textContent = label;
  }
  function formError(message) {
    var box = el('form-error');
    box.textContent = message;
    box.hidden = !message;
  }

  function submit(event) {
    event.preventDefault();
    if (paySent || el('pay-button').disabled) return;
    formError('');
    el('retry-error').hidden = true;
    var card = readCard();
    if (!card) return;
    setBusy(true, 'Processing\\u2026');
    announce('Processing your payment.');
    api('POST', 'payment_methods', { type: 'card', card: card, checkout: config.checkoutId }).then(function (answer) {
      if (answer.status !== 201 || !answer.json || typeof answer.json.id !== 'string') {
        var error = answer.json && answer.json.error ? answer.json.error : {};
        var target = answer.status === 422 ? VAULT_PARAMS[error.param] : undefined;
        var message = target && error.message ? 'Your card was not accepted: ' + error.message + '.' : errorMessage(answer, 'Your card could not be checked. Please try again.');
        if (target) { fieldError(target, message); el(target).focus(); } else { formError(message); }
        setBusy(false, 'Pay Now');
        announce(message);
        return;
      }
      paySent = true;
      var payBody = { payment_method: answer.json.id };
      if (!el('save-card-field').hidden) payBody.save_payment_method = el('save-card').checked;
      return api('POST', 'checkouts/' + encodeURIComponent(config.checkoutId) + '/pay', payBody, { 'idempotency-key': payKey })
        .then(function (paid) {
          if ((paid.status === 200 || paid.status === 202) && paid.json) {
            if (isTerminal(paid.json.status)) showResult(paid.json); else showPending();
            return;
          }
          fail('The payment could not be started', errorMessage(paid, 'Please return to the merchant and try again.'));
        });
    }).catch(function () {
      if (paySent) { showPending(); return; }
      setBusy(false, 'Pay Now');
      formError('We could not reach Paystep. Check your connection and try again.');
    });
  }

  function start() {
    if (!/^cs_/.test(secret)) {
      fail('This payment link is incomplete', 'Please return to the merchant and start the checkout again.');
      return;
    }
    el('card-form').addEventListener('submit', submit);
    el('card-expiry').addEventListener('input', formatExpiry);
    el('stay-button').addEventListener('click', function () {
      stopRedirect('You are staying on this page. Use the link above to return to ' + merchantName + ' when you are ready.');
      el('result-link').focus();
    });
    api('GET', 'checkouts/' + encodeURIComponent(config.checkoutId)).then(function (answer) {
      if (answer.status === 401 || answer.status === 404) { wrongLink(); return; }
      if (answer.status !== 200 || !answer.json) {
        fail('We can\\u2019t show this checkout', 'Something went wrong on our side. Please reload this page in a moment. You have not been charged.');
        return;
      }
      var checkout = answer.json;
      renderSummary(checkout);
      el('save-card-field').hidden = checkout.save_payment_method !== true;
      if (reopened(checkout)) {
        showRetry(checkout);
      } else if (checkout.status === 'open') {
        show('view-pay', 'pay-title');
        announce('Order loaded. Total ' + el('total').textContent + '.');
      } else if (checkout.status === 'processing' || checkout.status === 'requires_action') {
        showPending();
        if (returnedFromBank) announce('Back from your bank. Finishing your payment with ' + merchantName + '.');
      } else {
        poll();
      }
    }, function () {
      fail('We can\\u2019t reach Paystep', 'Check your connection and reload this page.');
    });
  }
  start();
})();
`;

function sha256Source(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

const SCRIPT_HASH = sha256Source(SCRIPT);
const STYLE_HASH = sha256Source(STYLE);

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** JSON for a `<script type="application/json">` block: no `<` can close the element early. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/**
 * The page's Content-Security-Policy: nothing loads or runs except the hashed inline script and
 * style; fetches go only to this origin (the API and its card vault); forms can submit nowhere
 * (card data must never leave by a native form post); no framing (clickjacking).
 */
export function checkoutContentSecurityPolicy(): string {
  return [
    "default-src 'none'",
    `script-src ${SCRIPT_HASH}`,
    `style-src ${STYLE_HASH}`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Response headers for every page this module renders. */
export function pageHeaders(): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': checkoutContentSecurityPolicy(),
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  };
}

export interface CheckoutPageInput {
  checkoutId: string;
}

/** The hosted checkout document for one checkout id; identical for everyone who asks. */
export function renderCheckoutPage(input: CheckoutPageInput): string {
  const config = { checkoutId: input.checkoutId, exponents: CURRENCY_EXPONENTS };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Checkout - Paystep</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<div class="page">
<header class="brand"><span class="logo" aria-hidden="true">P</span><span>Paystep checkout</span><span class="badge">Test mode</span></header>
<main class="card" id="main">
<section id="view-loading" class="center"><div class="spinner" aria-hidden="true"></div><p>Loading your order&hellip;</p></section>
<section id="view-error" hidden>
<h1 id="error-title" tabindex="-1">We can&rsquo;t show this checkout</h1>
<p id="error-message"></p>
</section>
<section id="view-pay" hidden aria-labelledby="pay-title">
<h1 id="pay-title" tabindex="-1">Pay <span id="merchant-name"></span></h1>
<section aria-labelledby="summary-title">
<h2 id="summary-title">Order summary</h2>
<ul id="items" class="items"></ul>
<p class="total"><span>Total</span><span id="total" data-testid="total"></span></p>
</section>
<form id="card-form" novalidate aria-labelledby="card-title">
<h2 id="card-title">Card details</h2>
<p id="retry-error" class="alert" role="alert" data-testid="payment-error" hidden></p>
<div class="field">
<label for="card-number">Card number</label>
<input id="card-number" name="cardnumber" type="text" inputmode="numeric" autocomplete="cc-number" spellcheck="false" maxlength="23" required aria-describedby="card-number-hint card-number-error">
<p id="card-number-hint" class="hint">Test mode: use 4242 4242 4242 4242 with any future date.</p>
<p id="card-number-error" class="error" hidden></p>
</div>
<div class="row">
<div class="field">
<label for="card-expiry">Expiry date (MM/YY)</label>
<input id="card-expiry" name="exp-date" type="text" inputmode="numeric" autocomplete="cc-exp" placeholder="MM/YY" maxlength="7" required aria-describedby="card-expiry-error">
<p id="card-expiry-error" class="error" hidden></p>
</div>
<div class="field">
<label for="card-cvc">Security code (CVC)</label>
<input id="card-cvc" name="cvc" type="text" inputmode="numeric" autocomplete="cc-csc" maxlength="4" required aria-describedby="card-cvc-error">
<p id="card-cvc-error" class="error" hidden></p>
</div>
</div>
<div id="save-card-field" class="field check" hidden>
<input id="save-card" name="save-card" type="checkbox" aria-describedby="save-card-hint">
<label for="save-card">Save my card for next time</label>
<p id="save-card-hint" class="hint">The merchant can then charge it for later orders and renewals without asking for it again.</p>
</div>
<p id="form-error" class="alert" role="alert" hidden></p>
<button id="pay-button" type="submit">Pay Now</button>
<p class="fineprint">Your card details go straight to Paystep&rsquo;s card vault, which keeps them encrypted and passes them only to the payment provider. The merchant never sees your card number.</p>
</form>
</section>
<section id="view-pending" class="center" hidden>
<div class="spinner" aria-hidden="true"></div>
<h1 id="pending-title" tabindex="-1">Confirming your order&hellip;</h1>
<p>Your card was accepted. We are checking with the merchant that your items are in stock, which can take a few seconds.</p>
<p><strong>Please keep this page open.</strong></p>
<p id="pending-note" class="hint" hidden>Still working on it&hellip;</p>
</section>
<section id="view-result" class="center" hidden>
<div id="result-icon" class="result-icon" aria-hidden="true"></div>
<h1 id="result-title" tabindex="-1"></h1>
<p id="result-message"></p>
<p id="result-reason" class="reason" data-testid="failure-reason" hidden></p>
<p><a id="result-link" class="button-link" href="#" hidden></a></p>
<p id="redirect-note" class="hint" aria-live="off"></p>
<button id="stay-button" type="button" class="secondary" hidden>Stay on this page</button>
</section>
<p id="status" class="visually-hidden" role="status" aria-live="polite"></p>
</main>
</div>
<script type="application/json" id="paystep-config">${jsonForScript(config)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** A small page for a malformed checkout link (same CSP, no script needed). */
export function renderNotFoundPage(): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Payment link not valid - Paystep</title><link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body><div class="page"><main class="card"><h1>This payment link doesn&rsquo;t work</h1><p>The link may be mistyped or cut short. Please go back to the shop and start the checkout again. You have not been charged.</p></main></div></body>
</html>
`;
}
