/**
 * The webhook dispatcher on AWS: an EventBridge rule runs it every minute (no retries: the next
 * run finds the same due deliveries), it leaves through the egress subnets like the saga's terminal steps,
 * its timeout covers the polling window plus one last 15 s webhook request, and it gets the run
 * window and poll interval as settings.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_DISPATCHER } from '../../lib/stateless-stack';
import {
  canonical,
  getAtt,
  logicalIdOf,
  ref,
  resourcesOfType,
  synthPaystep,
  type JsonObject,
  type SynthesizedPaystep,
} from './synth-paystep';

describe('webhook dispatcher', () => {
  let synth: SynthesizedPaystep;
  let properties: JsonObject;

  beforeAll(() => {
    synth = synthPaystep();
    properties = resourcesOfType(synth.statelessJson, 'AWS::Lambda::Function')[logicalIdOf(synth.stateless.webhookDispatcher)]!
      .Properties as JsonObject;
  });

  it('is invoked every minute by an EventBridge rule, without retries', () => {
    // Act
    const rules = Object.values(resourcesOfType(synth.statelessJson, 'AWS::Events::Rule')).map(
      (rule) => rule.Properties as JsonObject,
    );
    const dispatcherRules = rules.filter((rule) =>
      (rule.Targets as JsonObject[]).some(
        (target) => canonical(target.Arn!) === canonical(getAtt(synth.stateless.webhookDispatcher, 'Arn')),
      ),
    );
    // Assess
    expect(dispatcherRules).toHaveLength(1);
    expect(dispatcherRules[0]).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
    expect((dispatcherRules[0]!.Targets as JsonObject[])[0]).toMatchObject({ RetryPolicy: { MaximumRetryAttempts: 0 } });
  });

  it('runs in the egress subnets with a timeout that covers the run window plus one 15 s request', () => {
    const egressSubnets = synth.stateful.network.vpc.privateSubnets.map((subnet) => canonical(ref(subnet)));
    expect((properties.VpcConfig as { SubnetIds: JsonObject[] }).SubnetIds.map(canonical).sort()).toEqual(
      [...egressSubnets].sort(),
    );
    expect(properties.Timeout as number).toBeGreaterThanOrEqual(
      WEBHOOK_DISPATCHER.runForMs / 1000 + 15 + WEBHOOK_DISPATCHER.pollMs / 1000,
    );
  });

  it('gets the polling window and interval as settings', () => {
    const variables = (properties.Environment as { Variables: JsonObject }).Variables;
    expect(variables).toMatchObject({ PAYSTEP_WEBHOOK_DISPATCH_RUN_MS: '40000', PAYSTEP_WEBHOOK_DISPATCH_POLL_MS: '2000' });
  });
});
