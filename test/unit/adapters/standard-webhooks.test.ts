/**
 * signWebhook (node:crypto) against the `standardwebhooks` reference library a merchant verifies
 * with: the same signature for the same secret, id, second and body (non-ASCII bodies included),
 * a signature the library verifies, and the library's refusals (bad base64, an empty key).
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signWebhook } from '../../../lambdas/adapters/standard-webhooks';

const secretOf = (bytes: number) => `whsec_${randomBytes(bytes).toString('base64')}`;

describe('signWebhook', () => {
  it('signs exactly as the standardwebhooks library does, for keys of any length and non-ASCII bodies', () => {
    // Prepare
    const cases = [1, 2, 3, 24, 32, 64].map((bytes, index) => ({
      secret: secretOf(bytes),
      id: `msg_${index}`,
      at: new Date(1_767_000_000_123 + index * 1_001),
      body: JSON.stringify({ type: 'checkout.succeeded', note: `caf\u00e9 \u{1F600} ${index}`, amount: 1099 }),
    }));
    for (const { secret, id, at, body } of cases) {
      // Act
      const headers = signWebhook(secret, id, at, body);
      // Assess
      expect(headers).toEqual({
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': new Webhook(secret).sign(id, at, body),
      });
    }
  });

  it('produces headers the library verifies, and a changed body fails verification', () => {
    // Prepare
    const secret = secretOf(32);
    const body = '{"id":"evt_1","type":"checkout.succeeded"}';
    // Act
    const headers = signWebhook(secret, 'msg_verify', new Date(), body);
    // Assess
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(`${body} `, { ...headers })).toThrow(/signature/i);
  });

  it('takes every secret the library takes with the same key: no prefix, no padding, any length', () => {
    const at = new Date(1_767_000_000_000);
    const secrets = [
      randomBytes(32).toString('base64'),
      'whsec_writes',
      'whsec_abcde',
      'whsec_abcdefg',
      'whsec_abcdefghi',
      'whsec_ab+/cd==',
      `whsec_${randomBytes(31).toString('base64').replace(/=+$/, '')}`,
    ];
    for (const secret of secrets)
      expect(signWebhook(secret, 'msg_key', at, 'x')['webhook-signature']).toBe(new Webhook(secret).sign('msg_key', at, 'x'));
  });

  it('refuses a secret that is not base64 or is empty, as the library does', () => {
    const at = new Date(1_767_000_000_000);
    for (const secret of ['whsec_not base64!', 'whsec_abc', 'whsec_', 'whsec_ab-_cd', 'whsec_abcd===', 'whsec_ab=c']) {
      expect(() => new Webhook(secret).sign('msg', at, 'x')).toThrow();
      expect(() => signWebhook(secret, 'msg', at, 'x')).toThrow();
    }
  });
});
