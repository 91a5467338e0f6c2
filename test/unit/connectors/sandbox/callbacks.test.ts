/**
 * The sandbox connector's callback reader: the domain gets a callback with its reported state only
 * when the signature holds and the body is a sandbox callback; the registry lists the connector.
 */
import { describe, expect, it } from 'vitest';
import { CONNECTORS, DEFAULT_CONNECTOR_ID } from '../../../../lambdas/connectors/registry';
import { sandboxCallbackReader, signPspCallback } from '../../../../lambdas/connectors/sandbox/callbacks';

const SECRET = 'pspcb_reader_secret';
const NOW = new Date('2026-03-01T10:00:00Z');
const T = Math.floor(NOW.getTime() / 1000);
const body = JSON.stringify({
  id: 'pevt_1',
  type: 'authorization.succeeded',
  created: NOW.toISOString(),
  data: { authorization_id: 'auth_1', reference: 'chk_1', amount: 2500, currency: 'USD' },
});

describe('sandboxCallbackReader', () => {
  it('reads a signed sandbox callback into the domain callback with the state it reports', () => {
    // Act
    const reading = sandboxCallbackReader([SECRET]).read({
      rawBody: body,
      headers: { 'psp-signature': signPspCallback(SECRET, T, body) },
      now: NOW,
    });
    // Assess
    expect(reading).toEqual({
      kind: 'callback',
      callback: {
        id: 'pevt_1',
        type: 'authorization.succeeded',
        state: 'authorized',
        created: NOW.toISOString(),
        authorizationId: 'auth_1',
        reference: 'chk_1',
        amount: 2500,
        currency: 'USD',
      },
    });
  });

  it('refuses a bad signature before reading the body, and tells bad JSON from a body that is no callback', () => {
    // Prepare
    const reader = sandboxCallbackReader([SECRET]);
    const notJson = '{nope';
    const notCallback = JSON.stringify({ id: 'x', type: 'charge.refunded', created: 'now', data: {} });
    // Act / Assess
    expect(
      reader.read({ rawBody: notJson, headers: { 'psp-signature': signPspCallback('other', T, notJson) }, now: NOW }),
    ).toEqual({ kind: 'bad_signature', reason: 'mismatch' });
    expect(
      reader.read({ rawBody: notJson, headers: { 'psp-signature': signPspCallback(SECRET, T, notJson) }, now: NOW }),
    ).toEqual({ kind: 'invalid_json' });
    expect(
      reader.read({ rawBody: notCallback, headers: { 'psp-signature': signPspCallback(SECRET, T, notCallback) }, now: NOW }),
    ).toEqual({ kind: 'invalid_callback' });
  });
});

describe('the connector registry', () => {
  it('lists the sandbox connector, the default when nothing else chose one', () => {
    expect(Object.keys(CONNECTORS)).toContain('sandbox');
    expect(DEFAULT_CONNECTOR_ID).toBe('sandbox');
  });
});
