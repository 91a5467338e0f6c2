/**
 * GET /checkout/{id}: serves the hosted checkout page (checkout-page.ts) through the same API as
 * /v1, locally through the local API host and on AWS through API Gateway, so the page and the API
 * share one origin (no CORS on the API). The page is the same for every caller and holds no
 * checkout data: the browser proves itself with the client secret from the URL fragment when it
 * calls the API, so this function needs no table access and no secret.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { sandboxTokenizationUrlFromEnv } from '../connectors/sandbox/config';
import { pageHeaders, renderCheckoutPage, renderNotFoundPage } from './checkout-page';

/**
 * The PSP's browser-facing base URL; the page tokenizes cards there and the CSP allows its origin.
 * The sandbox connector's (the default): the only one that tokenizes in the browser.
 */
const pspPublicUrl = sandboxTokenizationUrlFromEnv();
const headers = pageHeaders(pspPublicUrl.origin);

const CHECKOUT_ID = /^chk_[A-Za-z0-9_-]{1,64}$/;

/** Renders the page for a well-formed checkout id; anything else is a 404 page, never an error. */
export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const checkoutId = event.pathParameters?.['id'] ?? '';
  if (!CHECKOUT_ID.test(checkoutId)) {
    return { statusCode: 404, headers, body: renderNotFoundPage() };
  }
  return {
    statusCode: 200,
    headers,
    body: renderCheckoutPage({ checkoutId, pspPublicUrl: pspPublicUrl.toString().replace(/\/+$/, '') }),
  };
}
