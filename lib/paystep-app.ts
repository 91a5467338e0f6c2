/**
 * Creates Paystep's two stacks on an app and wires the stateful one's resources into the
 * stateless one through props. bin/app.ts and test/cdk both call it, so the tests check the very
 * app that `cdk synth` and `cdk deploy` build.
 */
import type { App } from 'aws-cdk-lib';
import { readPaystepConfig, type PaystepConfig } from './paystep-config';
import { StatefulStack } from './stateful-stack';
import { StatelessStack } from './stateless-stack';

export interface PaystepStacks {
  readonly config: PaystepConfig;
  readonly stateful: StatefulStack;
  readonly stateless: StatelessStack;
}

/**
 * Stacks are environment-agnostic (no account/region lookups), so synth needs no AWS credentials;
 * `cdk deploy` binds them to the account and region of the caller's profile.
 */
export function addPaystepStacks(app: App): PaystepStacks {
  const config = readPaystepConfig(app.node);
  const prefix = `paystep-${config.stage}`;
  const tags = { project: 'paystep', stage: config.stage };
  const stateful = new StatefulStack(app, `${prefix}-stateful`, {
    config,
    tags,
    description: 'Paystep stateful resources: table, keys, secrets, egress network (NAT Elastic IPs)',
    terminationProtection: config.stage === 'prod',
  });
  const stateless = new StatelessStack(app, `${prefix}-stateless`, {
    config,
    tags,
    description: 'Paystep stateless resources: HTTP API, Lambda handlers, payment saga state machine',
    table: stateful.table,
    adminTokenSecret: stateful.adminTokenSecret,
    secretsKeySecret: stateful.secretsKeySecret,
    pspCallbackSecret: stateful.pspCallbackSecret,
    stripeApiKeySecret: stateful.stripeApiKeySecret,
    stripeWebhookSecret: stateful.stripeWebhookSecret,
    cardVault: stateful.cardVault,
    vpc: stateful.network.vpc,
    egressSubnets: stateful.network.egressSubnets,
    egressIps: stateful.network.egressIps,
  });
  return { config, stateful, stateless };
}
