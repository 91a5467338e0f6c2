/**
 * GET /checkout/{id}: serves the hosted checkout page (checkout-page.ts) through the same API as
 * /v1, locally through the local API host and on AWS through API Gateway, so the page, the API and
 * its card vault share one origin (no CORS on the API, nothing else in the page's CSP). The page is
 * the same for every caller and holds no checkout data: the browser proves itself with the client
 * secret from the URL fragment when it calls the API, so this function needs no table access, no
 * secret and no PSP address.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { pageHeaders, renderCheckoutPage, renderNotFoundPage } from './checkout-page';

const headers = pageHeaders();

const CHECKOUT_ID = /^chk_[A-Za-z0-9_-]{1,64}$/;

/** Renders the page for a well-formed checkout id; anything else is a 404 page, never an error. */
export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const checkoutId = event.pathParameters?.['id'] ?? '';
  if (!CHECKOUT_ID.test(checkoutId)) {
    return { statusCode: 404, headers, body: renderNotFoundPage() };
  }
  return { statusCode: 200, headers, body: renderCheckoutPage({ checkoutId }) };
}
