/**
 * The hosted checkout page's handler: the inline script and style it serves are exactly the ones
 * its Content-Security-Policy allows by hash (an edit to either without the other would blank the
 * page in browsers), the page may call its own origin only (the API and its card vault; no PSP),
 * it asks consent before saving a card, and malformed ids get a 404 page rather than an error.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';

type Handler = (
  event: APIGatewayProxyEventV2,
) => Promise<{ statusCode?: number; headers?: Record<string, string | number | boolean>; body?: string }>;
let handler: Handler;

function eventFor(id: string): APIGatewayProxyEventV2 {
  return {
    routeKey: 'GET /checkout/{id}',
    rawPath: `/checkout/${id}`,
    pathParameters: { id },
  } as unknown as APIGatewayProxyEventV2;
}

function hashOf(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

beforeAll(async () => {
  ({ handler } = (await import('../../../lambdas/web-checkout/handler')) as unknown as { handler: Handler });
});

describe('web-checkout handler', () => {
  it('serves the page with a CSP whose hashes match its inline script and style, and only its own origin in connect-src', async () => {
    // Act
    const result = await handler(eventFor('chk_abc123'));

    // Assess
    expect(result.statusCode).toBe(200);
    const csp = String(result.headers?.['content-security-policy']);
    const body = result.body ?? '';
    const script = /<script>([\s\S]*?)<\/script>/.exec(body)?.[1] ?? '';
    const style = /<style>([\s\S]*?)<\/style>/.exec(body)?.[1] ?? '';
    expect(csp).toContain(`script-src ${hashOf(script)}`);
    expect(csp).toContain(`style-src ${hashOf(style)}`);
    expect(csp).toContain("connect-src 'self';");
    expect(csp).toContain("form-action 'none'");
    expect(csp).not.toContain('unsafe');
    expect(body).toContain('"checkoutId":"chk_abc123"');
    expect(body).not.toContain('pspUrl');
    expect(body).not.toContain('/v1/tokens');
    expect(body).toMatch(/"USD":2/);
    expect(body).toMatch(/"KRW":0/);
    expect(result.headers?.['cache-control']).toBe('no-store');
    expect(result.headers?.['referrer-policy']).toBe('no-referrer');
  });

  it('labels every card field and announces status changes politely', async () => {
    // Act
    const body = (await handler(eventFor('chk_abc123'))).body ?? '';

    // Assess
    for (const id of ['card-number', 'card-expiry', 'card-cvc']) {
      expect(body).toContain(`<label for="${id}">`);
      expect(body).toContain(`<input id="${id}"`);
    }
    expect(body).toContain('role="status" aria-live="polite"');
    expect(body).toContain('<button id="pay-button" type="submit">Pay Now</button>');
  });

  it('says truthfully where card details go, and hides the save-card consent until the checkout offers it', async () => {
    // Act
    const body = (await handler(eventFor('chk_abc123'))).body ?? '';

    // Assess
    expect(body).toContain('Your card details go straight to Paystep&rsquo;s card vault');
    expect(body).not.toContain('straight to the payment provider');
    expect(body).toContain("api('POST', 'payment_methods'");
    expect(body).toMatch(
      /<div id="save-card-field" class="field check" hidden>\s*<input id="save-card" name="save-card" type="checkbox"/,
    );
    expect(body).toContain('<label for="save-card">Save my card for next time</label>');
  });

  it('answers a malformed id with a 404 page, never an error', async () => {
    // Act
    const result = await handler(eventFor('<script>alert(1)</script>'));

    // Assess
    expect(result.statusCode).toBe(404);
    expect(result.body).toContain('This payment link doesn&rsquo;t work');
    expect(result.body).not.toContain('alert(1)');
  });
});
