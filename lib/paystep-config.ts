/**
 * Deployment settings for the CDK app, read once from CDK context (`-c key=value` or cdk.json), so
 * every stack sees the same stage and URLs. Defaults make `npx cdk synth` work with no flags.
 */
import type { Node } from 'constructs';
import { isConnectorId } from '../lambdas/connectors/connector-ids';

export type PaystepStage = 'dev' | 'prod';

export interface PaystepConfig {
  /** `prod` turns on deletion protection and RETAIN on everything that holds money state. */
  readonly stage: PaystepStage;
  /** Base URL of the PSP the saga's authorize/capture/void steps call (`SANDBOX_PSP_URL`). */
  readonly sandboxPspUrl: string;
  /**
   * Base URL the buyer's `checkout_url` is built on (`PUBLIC_CHECKOUT_BASE_URL`). Unset: the HTTP
   * API's own URL, which is right until a custom domain or hosted checkout page exists.
   */
  readonly publicCheckoutBaseUrl: string | undefined;
  /** NAT gateways, one Elastic IP each; merchants whitelist every one of them. */
  readonly natGateways: number;
  /** E-mail address subscribed to the alarm topic (`-c alarmEmail=...`); none by default. */
  readonly alarmEmail: string | undefined;
  /**
   * The Stripe API's base URL (`STRIPE_API_URL`, `-c stripeApiUrl=...`). Unset: https://api.stripe.com
   * (the SDK's default); set it only to point the `stripe` connector at a Stripe-protocol sandbox.
   */
  readonly stripeApiUrl: string | undefined;
  /**
   * Connectors every merchant may use with the platform's own credentials
   * (`PAYSTEP_PLATFORM_CONNECTORS`, `-c platformConnectors=sandbox,stripe`; default `sandbox`). With
   * `stripe` listed, the platform's Stripe key (the StripeApiKeySecret) is the fallback for merchants
   * without their own Stripe account; without it, only merchants' own keys call Stripe.
   */
  readonly platformConnectors: readonly string[];
}

/**
 * The placeholder for offline synths only (`npm run synth`, the tests, the bundle report): RFC 2606
 * reserves `.invalid`, so it can never reach a host somebody else owns. There is no default: an app
 * built without `-c sandboxPspUrl=...` refuses to synthesize, so `cdk deploy` cannot ship a stack
 * whose every payment fails on an unreachable PSP.
 */
export const DEFAULT_SANDBOX_PSP_URL = 'https://sandbox-psp.invalid';

/**
 * Reads and validates the context once. Throws on an unknown stage so a typo such as
 * `-c stage=production` cannot silently deploy an unprotected table.
 */
export function readPaystepConfig(node: Node): PaystepConfig {
  const stage = String(node.tryGetContext('stage') ?? 'dev');
  if (stage !== 'dev' && stage !== 'prod') {
    throw new Error(`Context "stage" must be "dev" or "prod", got "${stage}"`);
  }
  const configuredPspUrl = node.tryGetContext('sandboxPspUrl') as unknown;
  if (configuredPspUrl === undefined || configuredPspUrl === '') {
    throw new Error(
      'Context "sandboxPspUrl" is required: the https URL the PSP answers on from AWS, e.g. ' +
        '`npm run cdk -- deploy --all -c stage=dev -c sandboxPspUrl=https://psp.example.com` (README, "Deploy to AWS"). ' +
        `For an offline synth, pass -c sandboxPspUrl=${DEFAULT_SANDBOX_PSP_URL}.`,
    );
  }
  const sandboxPspUrl = String(configuredPspUrl);
  const publicCheckoutBaseUrl = node.tryGetContext('publicCheckoutBaseUrl') as string | undefined;
  for (const [key, value] of [
    ['sandboxPspUrl', sandboxPspUrl],
    ['publicCheckoutBaseUrl', publicCheckoutBaseUrl],
  ] as const) {
    if (value !== undefined && !/^https?:\/\/[^\s]+$/.test(value)) {
      throw new Error(`Context "${key}" must be an http(s) URL, got "${value}"`);
    }
  }
  const natGateways = Number(node.tryGetContext('natGateways') ?? (stage === 'prod' ? 2 : 1));
  if (!Number.isInteger(natGateways) || natGateways < 1 || natGateways > 2) {
    throw new Error(`Context "natGateways" must be 1 or 2, got "${String(natGateways)}"`);
  }
  const alarmEmail = node.tryGetContext('alarmEmail') as string | undefined;
  if (alarmEmail !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(alarmEmail)) {
    throw new Error(`Context "alarmEmail" must be an e-mail address, got "${alarmEmail}"`);
  }
  const stripeApiUrl = node.tryGetContext('stripeApiUrl') as string | undefined;
  if (stripeApiUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(stripeApiUrl)) {
    throw new Error(`Context "stripeApiUrl" must be an http(s) URL, got "${stripeApiUrl}"`);
  }
  const platformConnectors = String(node.tryGetContext('platformConnectors') ?? 'sandbox')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  const unknownConnector = platformConnectors.find((id) => !isConnectorId(id));
  if (unknownConnector !== undefined) {
    throw new Error(`Context "platformConnectors" names no connector: "${unknownConnector}" (sandbox, stripe)`);
  }
  return { stage, sandboxPspUrl, publicCheckoutBaseUrl, natGateways, alarmEmail, stripeApiUrl, platformConnectors };
}
