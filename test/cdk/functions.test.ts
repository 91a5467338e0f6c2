/**
 * What PaystepFunction fixes for every handler (runtime, architecture, tracing, own log group,
 * bundled ESM entry) and the per-function placement and settings: only the merchant-calling saga
 * steps run in the egress subnets, only PSP-calling steps get SANDBOX_PSP_URL.
 */
import { App } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { runtimeOptions } from '../../lib/constructs/paystep-function';
import type { ApiEntry } from '../../lib/api-routes';
import type { SagaState } from '../../lib/saga-steps';
import { METRICS_NAMESPACE } from '../../lambdas/shared/metric-names';
import { DEFAULT_SANDBOX_PSP_URL } from '../../lib/paystep-config';
import {
  canonical,
  logicalIdOf,
  ref,
  resourcesOfType,
  synthPaystep,
  type JsonObject,
  type SynthesizedPaystep,
} from './synth-paystep';

/** The terminal steps send the result webhook in-process, and CapturePayment asks the merchant to confirm inventory: merchant URLs. */
const MERCHANT_EGRESS: SagaState[] = ['CapturePayment', 'VoidAuthorization'];
const CALLS_PSP: SagaState[] = [
  'AuthorizePayment',
  'CapturePayment',
  'VoidAuthorization',
  'AwaitAuthorization',
  'AwaitAuthentication',
];
/** The API entries that move instrument money at the PSP: /v1/financial_instruments and NewStore's /newstore routes. */
const API_CALLS_PSP: ApiEntry[] = ['api-instruments', 'api-newstore'];

describe('Lambda functions', () => {
  let synth: SynthesizedPaystep;
  let lambdas: Record<string, JsonObject>;

  beforeAll(() => {
    synth = synthPaystep({ sandboxPspUrl: 'https://psp.test.example' });
    lambdas = resourcesOfType(synth.statelessJson, 'AWS::Lambda::Function');
  });

  function propertiesOf(construct: Parameters<typeof logicalIdOf>[0]): JsonObject {
    return lambdas[logicalIdOf(construct)]!.Properties as JsonObject;
  }

  it('all run Node.js 24 on arm64 with active tracing, an ESM bundle and their own log group with retention', () => {
    const all = [
      ...synth.stateless.apiFunctions.values(),
      ...synth.stateless.sagaFunctions.values(),
      synth.stateless.webhookDispatcher,
      synth.stateless.reconciliationSweep,
    ];
    expect(all).toHaveLength(Object.keys(lambdas).length);
    const logGroups = resourcesOfType(synth.statelessJson, 'AWS::Logs::LogGroup');
    for (const fn of all) {
      const properties = propertiesOf(fn);
      expect(properties, fn.node.id).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: ref(fn.functionLogGroup) },
        Environment: {
          Variables: {
            POWERTOOLS_SERVICE_NAME: 'paystep',
            POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
            POWERTOOLS_LOG_LEVEL: 'INFO',
            // Cold-start switches, off by default (runtimeOptions): Lambda's active tracing only.
            POWERTOOLS_TRACE_ENABLED: 'false',
          },
        },
      });
      // Source maps are deployed as files, not applied at runtime (--enable-source-maps costs init time).
      expect((properties.Environment as { Variables: JsonObject }).Variables.NODE_OPTIONS, fn.node.id).toBeUndefined();
      expect((logGroups[logicalIdOf(fn.functionLogGroup)]!.Properties as JsonObject).RetentionInDays, fn.node.id).toBe(30);
      // Metrics are on in AWS (EMF through the log group; no cloudwatch:PutMetricData grant needed).
      expect(
        (properties.Environment as { Variables: JsonObject }).Variables.POWERTOOLS_METRICS_DISABLED,
        fn.node.id,
      ).toBeUndefined();
    }
  });

  it('runs exactly the merchant-calling saga steps in the private egress subnets', () => {
    // Prepare
    const egressSubnets = synth.stateful.network.vpc.privateSubnets.map((subnet) => canonical(ref(subnet)));
    for (const [state, fn] of synth.stateless.sagaFunctions) {
      const vpcConfig = propertiesOf(fn).VpcConfig as { SubnetIds: JsonObject[] } | undefined;
      // Assess
      if (MERCHANT_EGRESS.includes(state)) {
        expect(vpcConfig?.SubnetIds.map(canonical).sort(), state).toEqual([...egressSubnets].sort());
      } else {
        expect(vpcConfig, state).toBeUndefined();
      }
    }
    for (const fn of synth.stateless.apiFunctions.values()) expect(propertiesOf(fn).VpcConfig).toBeUndefined();
    expect(egressSubnets.length).toBeGreaterThan(0);
  });

  it('passes SANDBOX_PSP_URL from context to the PSP-calling steps and instrument APIs (v1 and NewStore) only, and PUBLIC_CHECKOUT_BASE_URL to API functions and saga steps', () => {
    for (const [state, fn] of synth.stateless.sagaFunctions) {
      const variables = (propertiesOf(fn).Environment as { Variables: JsonObject }).Variables;
      expect(variables.SANDBOX_PSP_URL, state).toBe(CALLS_PSP.includes(state) ? 'https://psp.test.example' : undefined);
      // Webhooks carry the rendered checkout, its URL included; saga-wiring reads it at cold start.
      expect(JSON.stringify(variables.PUBLIC_CHECKOUT_BASE_URL), state).toContain(logicalIdOf(synth.stateless.httpApi));
    }
    for (const [entry, fn] of synth.stateless.apiFunctions) {
      const variables = (propertiesOf(fn).Environment as { Variables: JsonObject }).Variables;
      expect(JSON.stringify(variables.PUBLIC_CHECKOUT_BASE_URL), entry).toContain(logicalIdOf(synth.stateless.httpApi));
      expect(variables.SANDBOX_PSP_URL, entry).toBe(API_CALLS_PSP.includes(entry) ? 'https://psp.test.example' : undefined);
    }
  });

  it('passes PAYSTEP_PLATFORM_CONNECTORS (default sandbox) to the PSP callers, the callback API and the connector-accounts API only; no STRIPE_API_URL or platform Stripe key by default; no SANDBOX_PSP_PUBLIC_URL anywhere', () => {
    // Prepare
    const connectorAware = [
      ...CALLS_PSP.map((state) => synth.stateless.sagaFunctions.get(state)!),
      ...[...API_CALLS_PSP, 'api-psp-callbacks', 'api-connectors'].map((entry) =>
        synth.stateless.apiFunctions.get(entry as ApiEntry)!,
      ),
      synth.stateless.reconciliationSweep,
    ].map((fn) => logicalIdOf(fn));
    // Act + Assess
    for (const [id, fn] of Object.entries(lambdas)) {
      const variables = ((fn.Properties as JsonObject).Environment as { Variables: JsonObject }).Variables;
      expect(variables.PAYSTEP_PLATFORM_CONNECTORS, id).toBe(connectorAware.includes(id) ? 'sandbox' : undefined);
      expect(variables.STRIPE_API_URL, id).toBeUndefined();
      expect(variables.STRIPE_API_KEY, id).toBeUndefined();
      expect(variables.SANDBOX_PSP_PUBLIC_URL, id).toBeUndefined();
    }
  });

  it('refuses to synthesize without -c sandboxPspUrl (no default PSP that fails every payment); honours -c publicCheckoutBaseUrl', () => {
    // Act
    const withoutPsp = () => synthPaystep({ sandboxPspUrl: undefined });
    const defaults = synthPaystep({ sandboxPspUrl: DEFAULT_SANDBOX_PSP_URL, publicCheckoutBaseUrl: 'https://pay.example.com' });
    const defaultLambdas = resourcesOfType(defaults.statelessJson, 'AWS::Lambda::Function');
    const authorize = defaultLambdas[logicalIdOf(defaults.stateless.sagaFunctions.get('AuthorizePayment')!)]!;
    const checkouts = defaultLambdas[logicalIdOf(defaults.stateless.apiFunctions.get('api-checkouts')!)]!;
    // Assess
    expect(withoutPsp).toThrow(/"sandboxPspUrl" is required/);
    expect(DEFAULT_SANDBOX_PSP_URL).toMatch(/\.invalid$/);
    expect(authorize.Properties).toMatchObject({ Environment: { Variables: { SANDBOX_PSP_URL: DEFAULT_SANDBOX_PSP_URL } } });
    expect(checkouts.Properties).toMatchObject({
      Environment: { Variables: { PUBLIC_CHECKOUT_BASE_URL: 'https://pay.example.com' } },
    });
  });

  it('rejects an unknown stage or a non-URL setting instead of deploying something unintended', () => {
    expect(() => synthPaystep({ stage: 'production' })).toThrow(/stage/);
    expect(() => synthPaystep({ sandboxPspUrl: 'psp.example.com' })).toThrow(/sandboxPspUrl/);
  });

  it('turns on runtime source maps and the Powertools Tracer only when the CDK context asks for them', () => {
    // Prepare
    const byDefault = new App();
    const switchedOn = new App({ context: { sourceMapsAtRuntime: 'true', powertoolsTracer: 'true' } });
    // Act
    const defaults = runtimeOptions(byDefault);
    const both = runtimeOptions(switchedOn);
    // Assess
    expect(defaults).toEqual({ POWERTOOLS_TRACE_ENABLED: 'false' });
    expect(both).toEqual({ NODE_OPTIONS: '--enable-source-maps' });
  });
});
