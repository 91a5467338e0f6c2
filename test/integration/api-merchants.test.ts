/**
 * POST /v1/merchants in-process on DynamoDB Local: admin-only onboarding, secrets shown once and
 * stored only hashed or encrypted, idempotent replays stored encrypted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { createHash } from 'node:crypto';
import { startApiTestEnv, type ApiTestEnv } from './api-test-kit';

let env: ApiTestEnv;

beforeAll(async () => {
  env = await startApiTestEnv();
});

afterAll(async () => {
  await env?.stop();
});

async function tableDump(): Promise<string> {
  const { Items } = await env.db.client.send(new ScanCommand({ TableName: env.db.tableName }));
  return JSON.stringify(Items);
}

describe('POST /v1/merchants', () => {
  it('onboards a merchant and returns its credentials once', async () => {
    // Act
    const response = await env.call('POST', '/v1/merchants', {
      token: env.adminToken,
      body: {
        name: 'Coffee Co',
        settings: { inventory_confirmation_url: 'https://coffee.example/inventory', inventory_confirmation_enabled: true },
      },
    });
    // Assess
    expect(response.status).toBe(201);
    const merchant = response.json;
    expect(merchant).toMatchObject({
      object: 'merchant',
      name: 'Coffee Co',
      settings: {
        object: 'settings',
        inventory_confirmation_url: 'https://coffee.example/inventory',
        inventory_confirmation_enabled: true,
        default_success_url: null,
        default_failure_url: null,
      },
    });
    expect(merchant.id).toMatch(/^mer_/);
    expect(merchant.merchant_key).toMatch(/^mk_/);
    expect(merchant.secret_key).toMatch(/^sk_test_[A-Za-z0-9_-]{40,}$/);
    expect(Buffer.from(merchant.signing_secret.slice('whsec_'.length), 'base64').length).toBeGreaterThanOrEqual(24);
    const settings = await env.call('GET', '/v1/settings', { token: merchant.secret_key });
    expect(settings.status).toBe(200);
  });

  it('stores the secret key only as a hash and the signing secret only encrypted', async () => {
    // Prepare
    const { body } = await env.createMerchant('Secretive');
    // Act
    const dump = await tableDump();
    // Assess
    expect(dump).not.toContain(body.secret_key);
    expect(dump).not.toContain(body.signing_secret);
    expect(dump).not.toContain(body.signing_secret.slice('whsec_'.length));
    expect(dump).toContain(createHash('sha256').update(body.secret_key).digest('hex'));
  });

  it('replays the creation for the same Idempotency-Key, stored encrypted', async () => {
    // Prepare
    const headers = { 'Idempotency-Key': 'onboard-1' };
    const first = await env.call('POST', '/v1/merchants', { token: env.adminToken, body: { name: 'Once' }, headers });
    // Act
    const second = await env.call('POST', '/v1/merchants', { token: env.adminToken, body: { name: 'Twice' }, headers });
    const dump = await tableDump();
    // Assess
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.rawBody).toBe(first.rawBody);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(dump).toContain('IDEMP#admin#onboard-1');
    expect(dump).not.toContain(first.json.secret_key);
  });

  it('accepts only the admin token', async () => {
    // Prepare
    const merchant = await env.createMerchant('Not an admin');
    // Act
    const asMerchant = await env.call('POST', '/v1/merchants', { token: merchant.secretKey, body: { name: 'x' } });
    const wrongToken = await env.call('POST', '/v1/merchants', { token: 'admin_wrong', body: { name: 'x' } });
    const missing = await env.call('POST', '/v1/merchants', { body: { name: 'x' } });
    // Assess
    expect([asMerchant.status, wrongToken.status, missing.status]).toEqual([401, 401, 401]);
    expect(wrongToken.json).toEqual({
      error: { code: 'unauthorized', message: 'Invalid admin token', request_id: expect.any(String) },
    });
  });

  it('validates the name and settings', async () => {
    // Act
    const noName = await env.call('POST', '/v1/merchants', { token: env.adminToken, body: {} });
    const enabledWithoutUrl = await env.call('POST', '/v1/merchants', {
      token: env.adminToken,
      body: { name: 'x', settings: { inventory_confirmation_enabled: true } },
    });
    // Assess
    expect(noName.status).toBe(400);
    expect(noName.json.error).toMatchObject({ code: 'parameter_missing', param: 'name' });
    expect(enabledWithoutUrl.status).toBe(422);
    expect(enabledWithoutUrl.json.error.param).toBe('inventory_confirmation_url');
  });

  it('answers an unknown route with a JSON 404', async () => {
    // Act
    const response = await env.call('GET', '/v1/merchants', { token: env.adminToken });
    // Assess
    expect(response.status).toBe(404);
    expect(response.json.error.code).toBe('route_not_found');
  });
});
