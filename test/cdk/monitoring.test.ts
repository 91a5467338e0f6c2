/**
 * The alarms as deployed: failed and timed-out saga executions, dead-lettered webhooks (the custom
 * metric the dispatcher emits, with the namespace and dimensions Powertools gives it), the API's
 * 5xx rate, errors and throttles of every function, all publishing to one KMS-encrypted,
 * TLS-only SNS topic that CloudWatch may use; and the optional e-mail subscription.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { METRICS_NAMESPACE, PAYSTEP_METRICS } from '../../lambdas/shared/metric-names';
import { ALARM_SETTINGS } from '../../lib/monitoring-construct';
import {
  canonical,
  getAtt,
  logicalIdOf,
  ref,
  resourcesOfType,
  synthPaystep,
  type Json,
  type JsonObject,
  type SynthesizedPaystep,
} from './synth-paystep';

describe('alarms', () => {
  let synth: SynthesizedPaystep;
  let alarms: Record<string, JsonObject>;
  let topicRef: JsonObject;

  /** The alarm whose construct id (last path segment) is `id`. */
  function alarmProperties(id: string): JsonObject {
    const construct = synth.stateless.monitoring.node.findChild(id);
    const alarm = alarms[logicalIdOf(construct)];
    expect(alarm, id).toBeDefined();
    return alarm!.Properties as JsonObject;
  }

  beforeAll(() => {
    synth = synthPaystep();
    alarms = resourcesOfType(synth.statelessJson, 'AWS::CloudWatch::Alarm');
    topicRef = ref(synth.stateless.monitoring.alarmTopic);
  });

  it('alarm on any failed or timed-out checkout execution of the state machine', () => {
    for (const [id, metricName] of [
      ['CheckoutExecutionsFailed', 'ExecutionsFailed'],
      ['CheckoutExecutionsTimedOut', 'ExecutionsTimedOut'],
    ] as const) {
      expect(alarmProperties(id), id).toMatchObject({
        Namespace: 'AWS/States',
        MetricName: metricName,
        Dimensions: [{ Name: 'StateMachineArn', Value: ref(synth.stateless.stateMachine) }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('alarm on a dead-lettered webhook through the custom metric, as Powertools emits it', () => {
    expect(alarmProperties('WebhookDeadLettered')).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: PAYSTEP_METRICS.webhookDeadLettered,
      Dimensions: [{ Name: 'service', Value: 'paystep' }],
      Statistic: 'Sum',
      Threshold: 1,
    });
  });

  it('alarm on the API 5xx rate, only once there is enough traffic for a rate to mean something', () => {
    // Act
    const properties = alarmProperties('Api5xxRate');
    const metrics = properties.Metrics as JsonObject[];
    const expression = metrics.find((metric) => metric.Expression !== undefined)!;
    const byId = Object.fromEntries(
      metrics
        .filter((metric) => metric.MetricStat !== undefined)
        .map((metric) => [metric.Id as string, metric.MetricStat as JsonObject]),
    );
    // Assess
    expect(expression.Expression).toBe(`IF(requests >= ${ALARM_SETTINGS.api5xxMinRequests}, 100 * errors / requests, 0)`);
    expect(properties).toMatchObject({ Threshold: ALARM_SETTINGS.api5xxPercent, ComparisonOperator: 'GreaterThanThreshold' });
    expect(byId.errors).toMatchObject({
      Metric: {
        Namespace: 'AWS/ApiGateway',
        MetricName: '5xx',
        Dimensions: [{ Name: 'ApiId', Value: ref(synth.stateless.httpApi) }],
      },
      Stat: 'Sum',
    });
    expect(byId.requests).toMatchObject({ Metric: { Namespace: 'AWS/ApiGateway', MetricName: 'Count' }, Stat: 'Sum' });
  });

  it('alarm on throttles of every function, on any error of non-saga functions, and on the error rate of saga steps', () => {
    // Prepare
    const lambdaIds = Object.keys(resourcesOfType(synth.statelessJson, 'AWS::Lambda::Function'));
    const sagaIds = new Set([...synth.stateless.sagaFunctions.values()].map((fn) => logicalIdOf(fn)));
    const byFunctionAndMetric = new Map<string, JsonObject>();
    for (const alarm of Object.values(alarms)) {
      const properties = alarm.Properties as JsonObject;
      const stats = [
        ...(properties.MetricName !== undefined
          ? [{ MetricName: properties.MetricName, Dimensions: properties.Dimensions }]
          : []),
        ...((properties.Metrics as JsonObject[] | undefined) ?? []).flatMap((metric) =>
          metric.MetricStat ? [(metric.MetricStat as { Metric: JsonObject }).Metric] : [],
        ),
      ] as { MetricName: string; Dimensions?: { Name: string; Value: Json }[] }[];
      for (const stat of stats) {
        const fn = stat.Dimensions?.find((dimension) => dimension.Name === 'FunctionName')?.Value as { Ref?: string } | undefined;
        if (fn?.Ref !== undefined) byFunctionAndMetric.set(`${fn.Ref} ${stat.MetricName}`, properties);
      }
    }
    // Assess
    expect(lambdaIds.length).toBeGreaterThanOrEqual(15);
    for (const id of lambdaIds) {
      expect(byFunctionAndMetric.get(`${id} Throttles`), `${id} Throttles`).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      const errors = byFunctionAndMetric.get(`${id} Errors`);
      if (sagaIds.has(id)) {
        // Business outcomes are thrown as errors: a rate with a minimum of invocations, never a count.
        expect(errors, `${id} Errors`).toMatchObject({
          Threshold: ALARM_SETTINGS.sagaStepErrorPercent,
          ComparisonOperator: 'GreaterThanThreshold',
        });
        expect(byFunctionAndMetric.get(`${id} Invocations`), `${id} Invocations`).toBe(errors);
      } else {
        expect(errors, `${id} Errors`).toMatchObject({
          MetricName: 'Errors',
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        });
      }
    }
  });

  it('send every alarm to the one alarm topic', () => {
    expect(Object.keys(alarms).length).toBe(synth.stateless.monitoring.alarms.length);
    for (const [id, alarm] of Object.entries(alarms)) {
      expect((alarm.Properties as JsonObject).AlarmActions, id).toEqual([topicRef]);
      expect(((alarm.Properties as JsonObject).AlarmDescription as string).length, id).toBeGreaterThan(20);
    }
  });

  it('encrypt the topic with a rotating key CloudWatch may use, refuse non-TLS publishing, and output its ARN', () => {
    // Prepare
    const topics = resourcesOfType(synth.statelessJson, 'AWS::SNS::Topic');
    const topic = topics[logicalIdOf(synth.stateless.monitoring.alarmTopic)]!.Properties as JsonObject;
    const keyConstruct = synth.stateless.monitoring.node.findChild('AlarmTopicKey');
    const key = resourcesOfType(synth.statelessJson, 'AWS::KMS::Key')[logicalIdOf(keyConstruct)]!.Properties as JsonObject;
    const topicPolicies = Object.values(resourcesOfType(synth.statelessJson, 'AWS::SNS::TopicPolicy')).map(
      (policy) => policy.Properties as JsonObject,
    );
    // Assess
    expect(Object.keys(topics)).toHaveLength(1);
    expect(topic.KmsMasterKeyId).toEqual(getAtt(keyConstruct, 'Arn'));
    expect(key.EnableKeyRotation).toBe(true);
    const statements = (key.KeyPolicy as { Statement: JsonObject[] }).Statement;
    expect(
      statements.find((statement) => canonical(statement.Principal!) === canonical({ Service: 'cloudwatch.amazonaws.com' })),
    ).toMatchObject({
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    });
    const denyInsecure = topicPolicies
      .flatMap((policy) => (policy.PolicyDocument as { Statement: JsonObject[] }).Statement)
      .find((statement) => statement.Effect === 'Deny');
    expect(denyInsecure).toMatchObject({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect((synth.statelessJson.Outputs as Record<string, { Value: Json }>).AlarmTopicArn!.Value).toEqual(topicRef);
    expect(Object.keys(resourcesOfType(synth.statelessJson, 'AWS::SNS::Subscription'))).toHaveLength(0);
  });

  it('subscribe -c alarmEmail to the topic, and reject a malformed address', () => {
    // Act
    const withEmail = synthPaystep({ alarmEmail: 'ops@example.com' });
    const subscriptions = Object.values(resourcesOfType(withEmail.statelessJson, 'AWS::SNS::Subscription')).map(
      (s) => s.Properties as JsonObject,
    );
    // Assess
    expect(subscriptions).toEqual([
      { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: ref(withEmail.stateless.monitoring.alarmTopic) },
    ]);
    expect(() => synthPaystep({ alarmEmail: 'not-an-address' })).toThrow(/alarmEmail/);
  });
});
