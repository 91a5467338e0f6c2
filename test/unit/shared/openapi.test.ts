/**
 * The OpenAPI document (GET /v1/openapi.json): it describes every /v1 route of lib/api-routes.ts and
 * nothing else, lints clean with Redocly's strictest built-in ruleset, is generated from the very
 * request schemas the handlers validate with, and its answer schemas accept what the views build.
 */
import { readFileSync } from 'node:fs';
import { aPayment } from '../../support/payments';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { OPENAPI_DOCUMENT_FILE, renderOpenApiDocument } from '../../../bin/openapi-document';
import { API_ROUTES, routeKey } from '../../../lib/api-routes';
import { handler } from '../../../lambdas/api-openapi/handler';
import { buildOpenApiDocument, documentedRoutes } from '../../../lambdas/shared/openapi';
import { createCheckoutInputSchema } from '../../../lambdas/shared/validation';
import {
  checkoutSchema,
  checkoutStatusSchema,
  createdMerchantSchema,
  eventSchema,
  listSchema,
  publicCheckoutSchema,
  settingsSchema,
  webhookEndpointSchema,
} from '../../../lambdas/shared/response-schemas';
import {
  toCheckoutView,
  toCreatedMerchantView,
  toEventLogView,
  toListView,
  toPublicCheckoutView,
  toSettingsView,
  toWebhookEndpointView,
} from '../../../lambdas/shared/views';
import { statusView } from '../../../lambdas/use-cases/pay-checkout';
import { aCheckout, aMerchant } from '../fakes';

type Json = Record<string, unknown>;

const V1_ROUTES = API_ROUTES.filter((route) => route.path.startsWith('/v1/')).map(routeKey);

function openApiEvent(headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'GET /v1/openapi.json',
    rawPath: '/v1/openapi.json',
    rawQueryString: '',
    headers: { host: 'api.example.test', 'x-forwarded-proto': 'https', ...headers },
    requestContext: { domainName: 'api.example.test', requestId: 'req-123' } as APIGatewayProxyEventV2['requestContext'],
    isBase64Encoded: false,
  };
}

describe('OpenAPI document', () => {
  it('documents every /v1 route of the route table, and no route the table lacks', () => {
    // Act
    const documented = documentedRoutes();
    const document = buildOpenApiDocument();
    const paths = document.paths as Record<string, Record<string, unknown>>;
    const inDocument = Object.entries(paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );

    // Assess
    expect(V1_ROUTES.length).toBeGreaterThan(20);
    expect([...documented].sort()).toEqual([...V1_ROUTES].sort());
    expect(inDocument.sort()).toEqual([...V1_ROUTES].sort());
  });

  it('lints with zero problems under Redocly recommended-strict', async () => {
    // Prepare
    const config = await createConfig({ extends: ['recommended-strict'] });

    // Act
    const problems = await lintFromString({
      source: JSON.stringify(buildOpenApiDocument()),
      absoluteRef: 'openapi.json',
      config,
    });

    // Assess
    expect(
      problems.map(
        (problem) => `${problem.severity} ${problem.ruleId}: ${problem.message} at ${problem.location[0]?.pointer ?? '?'}`,
      ),
    ).toEqual([]);
  }, 60_000); // Redocly's lint of the whole document takes seconds on a loaded machine

  it('declares the three bearer schemes and gives each route the credentials its handler accepts', () => {
    // Act
    const document = buildOpenApiDocument();
    const schemes = (document.components as { securitySchemes: Json }).securitySchemes;
    const paths = document.paths as Record<
      string,
      Record<string, { security: Json[]; parameters?: { name: string; in: string }[] }>
    >;

    // Assess
    expect(Object.keys(schemes).sort()).toEqual(['adminToken', 'clientSecret', 'merchantKey']);
    expect(paths['/v1/merchants']!.post!.security).toEqual([{ adminToken: [] }]);
    expect(paths['/v1/checkouts/{id}']!.get!.security).toEqual([{ merchantKey: [] }, { clientSecret: [] }]);
    expect(paths['/v1/checkouts/{id}/pay']!.post!.security).toEqual([{ clientSecret: [] }, { merchantKey: [] }]);
    expect(paths['/v1/openapi.json']!.get!.security).toEqual([]);
    expect(paths['/v1/checkouts']!.post!.parameters?.map((parameter) => `${parameter.in}:${parameter.name}`)).toEqual(
      expect.arrayContaining(['header:Paystep-Version', 'header:Idempotency-Key']),
    );
  });

  it('is generated from the request schemas the handlers validate with, examples included', () => {
    // Prepare
    const document = buildOpenApiDocument();
    const paths = document.paths as Record<
      string,
      Record<string, { requestBody: { content: { 'application/json': { schema: Json; example: Json } } } }>
    >;
    const createCheckout = paths['/v1/checkouts']!.post!.requestBody.content['application/json'];

    // Act
    const fields = Object.keys(createCheckout.schema.properties as Json);
    const exampleIsValid = createCheckoutInputSchema({ allowHttpUrls: false }).safeParse(createCheckout.example).success;

    // Assess
    expect(fields.sort()).toEqual(Object.keys(createCheckoutInputSchema({ allowHttpUrls: false }).shape).sort());
    expect(createCheckout.schema.additionalProperties).toBe(false);
    expect(exampleIsValid).toBe(true);
    expect(JSON.stringify(document.components)).toContain('"request_id"');
  });

  it('describes what the views answer (they parse with the answer schemas)', () => {
    // Prepare
    const merchant = aMerchant();
    const checkout = aCheckout({
      metadata: { channel: 'web' },
      payment: aPayment({
        paymentToken: 'tok_1',
        connector: 'sandbox',
        pspReference: 'auth_1',
        authorizedAmount: 10050,
        capturedAmount: 10050,
        voided: false,
      }),
      status: 'succeeded',
    });
    const endpoint = {
      id: 'we_1',
      merchantId: 'mer_1',
      url: 'https://shop.example/hook',
      enabledEvents: ['*'],
      secretCiphertext: 'x',
      status: 'enabled' as const,
      createdAt: '2026-01-01T00:00:00.000Z',
    };
    const event = {
      event: {
        id: 'evt_1',
        merchantId: 'mer_1',
        type: 'checkout.succeeded',
        created: 1,
        createdAt: '2026-01-01T00:00:00.000Z',
        body: '{"data":{"object":{}}}',
      },
      deliveries: [
        {
          eventId: 'evt_1',
          endpointId: 'we_1',
          merchantId: 'mer_1',
          status: 'delivered' as const,
          attempt: 1,
          nextAttemptAt: '2026-01-01T00:00:00.000Z',
          attempts: [{ number: 1, at: '2026-01-01T00:00:00.000Z', ok: true, httpStatus: 200, latencyMs: 12 }],
          updatedAt: '2026-01-01T00:00:00.000Z',
        },
      ],
    };

    // Act
    const results = [
      checkoutSchema.safeParse(
        toCheckoutView(checkout, {
          checkoutBaseUrl: 'https://pay.example',
          clientSecret: 'cs_1',
          instrument: undefined,
          events: [{ checkoutId: 'chk_1', type: 'created', at: checkout.createdAt }],
        }),
      ),
      listSchema(checkoutSchema, 'CheckoutListTest').safeParse(
        toListView([toCheckoutView(checkout, { checkoutBaseUrl: 'https://pay.example', instrument: undefined })], 'cursor'),
      ),
      publicCheckoutSchema.safeParse(toPublicCheckoutView(checkout, 'Shop')),
      checkoutStatusSchema.safeParse(statusView(checkout)),
      settingsSchema.safeParse(toSettingsView(merchant.settings)),
      createdMerchantSchema.safeParse(toCreatedMerchantView(merchant, { secretKey: 'sk_test_1', signingSecret: 'whsec_1' })),
      webhookEndpointSchema.safeParse(toWebhookEndpointView(endpoint, 'whsec_2')),
      eventSchema.safeParse(toEventLogView(event)),
    ];

    // Assess
    expect(results.map((result) => (result.success ? 'ok' : result.error.message))).toEqual(results.map(() => 'ok'));
  });
});

describe('GET /v1/openapi.json handler', () => {
  it('serves the document without credentials, with this deployment as its server', async () => {
    // Act
    const result = await handler(openApiEvent());
    const body = JSON.parse(result.body ?? '{}') as { openapi: string; servers: { url: string }[] };

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['content-type']).toBe('application/json');
    expect(body.openapi).toBe('3.1.0');
    expect(body.servers[0]!.url).toBe('https://api.example.test');
  });

  it('serves, byte for byte, the document lambdas/shared/openapi.ts builds for its origin (or the local default without one)', async () => {
    // Prepare
    const withoutHost: APIGatewayProxyEventV2 = {
      ...openApiEvent(),
      headers: {},
      requestContext: { requestId: 'r' } as APIGatewayProxyEventV2['requestContext'],
    };

    // Act
    const forOrigin = await handler(openApiEvent());
    const local = await handler(withoutHost);

    // Assess
    expect(forOrigin.body).toBe(JSON.stringify(buildOpenApiDocument({ serverUrl: 'https://api.example.test' })));
    expect(local.body).toBe(JSON.stringify(buildOpenApiDocument()));
  });

  it('serves the committed generated document, which matches the schemas (run npm run generate:openapi-document if not)', () => {
    // Act
    const committed = readFileSync(OPENAPI_DOCUMENT_FILE, 'utf8');

    // Assess
    expect(committed).toBe(renderOpenApiDocument());
  });

  it('refuses an unknown Paystep-Version with a 400 carrying the request id', async () => {
    // Act
    const result = await handler(openApiEvent({ 'paystep-version': '2019-01-01' }));

    // Assess
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body ?? '{}')).toEqual({
      error: {
        code: 'invalid_api_version',
        message: expect.stringContaining('2019-01-01'),
        param: 'Paystep-Version',
        request_id: 'req-123',
      },
    });
  });
});
