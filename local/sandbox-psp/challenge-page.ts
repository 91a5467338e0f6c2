/**
 * The issuer's 3-D Secure challenge page, as both local sandboxes (sandbox PSP and the
 * Stripe-protocol sandbox) serve it at the `next_action.redirect_to_url.url` they hand out. A
 * plain HTML form with two submit buttons, Complete and Fail: `POST <url>` with the form field
 * `outcome=complete|fail` decides the challenge and answers 302 to the `return_url`. No script,
 * so it works with the keyboard alone (Tab to a button, Enter or Space) and in every browser.
 * Never shows the card number: only brand and last 4 digits.
 */
import type { ServerResponse } from 'node:http';

export type ChallengeOutcome = 'complete' | 'fail';

export interface ChallengePageInput {
  /** Who plays the issuer, shown in the title ("Sandbox PSP", "Stripe sandbox"). */
  issuer: string;
  amount: number;
  currency: string;
  card: { brand: string; last4: string };
  /** Whether the challenge is still open; a decided one shows its result and no buttons. */
  open: boolean;
  /** Shown when decided: "completed", "failed", "canceled". */
  result?: string;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** The amount as "EUR 12.34" (minor units, exponent 2 unless the code says otherwise). */
function formatAmount(amount: number, currency: string): string {
  const exponent = ['JPY', 'KRW', 'VND', 'CLP', 'ISK', 'UGX', 'XAF', 'XOF'].includes(currency) ? 0 : 2;
  const text = String(amount).padStart(exponent + 1, '0');
  return exponent === 0 ? `${currency} ${text}` : `${currency} ${text.slice(0, -exponent)}.${text.slice(-exponent)}`;
}

/** The challenge page's HTML (the form posts to the page's own URL). */
export function renderChallengePage(input: ChallengePageInput): string {
  const amount = escapeHtml(formatAmount(input.amount, input.currency));
  const card = `${escapeHtml(input.card.brand)} ending in ${escapeHtml(input.card.last4)}`;
  const body = input.open
    ? `<p id="challenge-help">Confirm the payment of <strong>${amount}</strong> with your ${card}. This is a test
      challenge: choose the outcome the issuer should report.</p>
    <form method="post" aria-describedby="challenge-help">
      <button type="submit" name="outcome" value="complete" id="complete-button">Complete authentication</button>
      <button type="submit" name="outcome" value="fail" id="fail-button">Fail authentication</button>
    </form>`
    : `<p role="status" id="challenge-result">This challenge is ${escapeHtml(input.result ?? 'closed')}. You can close this page.</p>`;
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>3-D Secure challenge - ${escapeHtml(input.issuer)}</title>
  <style>
    body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 3rem auto; padding: 0 1rem; color: #1a1a1a; }
    h1 { font-size: 1.4rem; }
    form { display: flex; gap: 1rem; margin-top: 1.5rem; }
    button { font-size: 1rem; padding: 0.7rem 1.2rem; border-radius: 0.4rem; border: 2px solid #1a4d8f; cursor: pointer; }
    #complete-button { background: #1a4d8f; color: #fff; }
    #fail-button { background: #fff; color: #1a4d8f; }
    button:focus-visible { outline: 3px solid #f2a900; outline-offset: 2px; }
  </style>
</head>
<body>
  <main>
    <h1>3-D Secure: confirm it is you</h1>
    <p>${escapeHtml(input.issuer)} test issuer</p>
    ${body}
  </main>
</body>
</html>`;
}

/** `outcome=complete|fail` from a urlencoded form body; undefined for anything else. */
export function parseChallengeOutcome(rawBody: string): ChallengeOutcome | undefined {
  const outcome = new URLSearchParams(rawBody).get('outcome');
  return outcome === 'complete' || outcome === 'fail' ? outcome : undefined;
}

/** Sends the page (or a 404 page) with headers that keep it out of frames and caches. */
export function sendChallengeHtml(response: ServerResponse, status: number, html: string): void {
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:",
    'referrer-policy': 'no-referrer',
  });
  response.end(html);
}

/** The 302 back to where the merchant's platform wants the buyer (or a small page when none was given). */
export function redirectAfterChallenge(response: ServerResponse, returnUrl: string | undefined, result: string): void {
  if (returnUrl !== undefined && /^https?:\/\//.test(returnUrl)) {
    response.writeHead(302, { location: returnUrl, 'cache-control': 'no-store' });
    response.end();
    return;
  }
  sendChallengeHtml(
    response,
    200,
    renderChallengePage({ issuer: 'Sandbox', amount: 0, currency: 'EUR', card: { brand: '', last4: '' }, open: false, result }),
  );
}
