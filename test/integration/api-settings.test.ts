/**
 * GET/PUT /v1/settings in-process on DynamoDB Local: partial updates, URL rules, the
 * enable-needs-URL invariant and optimistic concurrency on the merchant's version.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiTestEnv, type ApiTestEnv } from './api-test-kit';

let env: ApiTestEnv;

beforeAll(async () => {
  env = await startApiTestEnv();
});

afterAll(async () => {
  await env?.stop();
});

describe('/v1/settings', () => {
  it('starts with confirmation disabled and no URLs', async () => {
    // Prepare
    const merchant = await env.createMerchant();
    // Act
    const response = await env.call('GET', '/v1/settings', { token: merchant.secretKey });
    // Assess
    expect(response.status).toBe(200);
    expect(response.json).toEqual({
      object: 'settings',
      inventory_confirmation_url: null,
      inventory_confirmation_enabled: false,
      default_success_url: null,
      default_failure_url: null,
      expired_authorization_action: 'void',
      allowed_ports: [],
    });
  });

  it('applies partial updates: absent keeps, null clears', async () => {
    // Prepare
    const merchant = await env.createMerchant();
    await env.call('PUT', '/v1/settings', {
      token: merchant.secretKey,
      body: {
        inventory_confirmation_url: 'http://127.0.0.1:3002/inventory',
        inventory_confirmation_enabled: true,
        default_success_url: 'https://s.example/ok',
      },
    });
    // Act
    const patched = await env.call('PUT', '/v1/settings', {
      token: merchant.secretKey,
      body: { default_success_url: null, default_failure_url: 'https://s.example/ko', expired_authorization_action: 'capture' },
    });
    const read = await env.call('GET', '/v1/settings', { token: merchant.secretKey });
    // Assess
    expect(patched.status).toBe(200);
    expect(read.json).toEqual({
      object: 'settings',
      inventory_confirmation_url: 'http://127.0.0.1:3002/inventory',
      inventory_confirmation_enabled: true,
      default_success_url: null,
      default_failure_url: 'https://s.example/ko',
      expired_authorization_action: 'capture',
      allowed_ports: [],
    });
  });

  it('refuses enabling confirmation without a URL, and clearing the URL while enabled', async () => {
    // Prepare
    const merchant = await env.createMerchant();
    // Act
    const enable = await env.call('PUT', '/v1/settings', {
      token: merchant.secretKey,
      body: { inventory_confirmation_enabled: true },
    });
    await env.call('PUT', '/v1/settings', {
      token: merchant.secretKey,
      body: { inventory_confirmation_url: 'https://m.example/inv', inventory_confirmation_enabled: true },
    });
    const clear = await env.call('PUT', '/v1/settings', {
      token: merchant.secretKey,
      body: { inventory_confirmation_url: null },
    });
    // Assess
    for (const response of [enable, clear]) {
      expect(response.status).toBe(422);
      expect(response.json.error).toMatchObject({ code: 'parameter_missing', param: 'inventory_confirmation_url' });
    }
  });

  it.each([
    ['relative URL', { default_success_url: '/ok' }, 422, 'invalid_url'],
    ['javascript URL', { default_success_url: 'javascript:alert(1)' }, 422, 'invalid_url'],
    ['URL with credentials', { inventory_confirmation_url: 'https://u:p@m.example/' }, 422, 'invalid_url'],
    ['boolean as string', { inventory_confirmation_enabled: 'yes' }, 400, 'invalid_request'],
    ['unknown key', { webhook_url: 'https://m.example' }, 400, 'unknown_parameter'],
    ['unknown expiry action', { expired_authorization_action: 'refund' }, 422, 'invalid_parameter'],
  ])('rejects a %s', async (_name, body, status, code) => {
    // Prepare
    const merchant = await env.createMerchant();
    // Act
    const response = await env.call('PUT', '/v1/settings', { token: merchant.secretKey, body });
    // Assess
    expect(response.status).toBe(status);
    expect(response.json.error.code).toBe(code);
    expect(response.json.error.param).toBe(Object.keys(body)[0]);
  });

  it('answers concurrent updates with 200 or 409 concurrent_modification, never a lost write', async () => {
    // Prepare
    const merchant = await env.createMerchant();
    const urls = Array.from({ length: 5 }, (_, i) => `https://s.example/ok/${i}`);
    // Act
    const responses = await Promise.all(
      urls.map((url) => env.call('PUT', '/v1/settings', { token: merchant.secretKey, body: { default_success_url: url } })),
    );
    const read = await env.call('GET', '/v1/settings', { token: merchant.secretKey });
    // Assess
    const ok = responses.filter((r) => r.status === 200);
    const conflicts = responses.filter((r) => r.status === 409);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(ok.length + conflicts.length).toBe(5);
    for (const conflict of conflicts) expect(conflict.json.error.code).toBe('concurrent_modification');
    expect(ok.map((r) => r.json.default_success_url)).toContain(read.json.default_success_url);
  });

  it('rejects the admin token and client secrets', async () => {
    // Act
    const asAdmin = await env.call('GET', '/v1/settings', { token: env.adminToken });
    const asClient = await env.call('GET', '/v1/settings', { token: 'cs_whatever' });
    // Assess
    expect(asAdmin.status).toBe(401);
    expect(asClient.status).toBe(401);
  });
});
