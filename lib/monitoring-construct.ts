/**
 * The alarms an operator of Paystep is paged by, all on one encrypted SNS topic: failed and
 * timed-out saga executions, webhook deliveries that were dead-lettered (a custom metric the
 * dispatcher emits: dead letters are DynamoDB records, not an SQS queue, so there is no queue depth
 * to watch), the API's 5xx rate, and errors and throttles of every Lambda function.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, METRICS_SERVICE_DIMENSION, PAYSTEP_METRICS } from '../lambdas/shared/metric-names';
import { POWERTOOLS_SERVICE_NAME } from './constructs/paystep-function';
import { denyGrantsExceptForAwsServices } from './control-tower-guard';

/** Thresholds, exported so the CDK tests assert the very numbers deployed. */
export const ALARM_SETTINGS = {
  period: Duration.minutes(5),
  /** API: page when more than this share of requests in a period answered 5xx ... */
  api5xxPercent: 5,
  /** ... and at least this many requests were made (two failures of three requests are noise). */
  api5xxMinRequests: 20,
  /**
   * Saga steps throw business outcomes (PaymentDeclinedError, InventoryRejectedError) as Lambda
   * errors so the ASL can catch them: a plain error count would page on every declined card. They
   * alarm on an error rate over a longer window instead; every other function on any error.
   */
  sagaStepErrorPercent: 50,
  sagaStepMinInvocations: 10,
  sagaStepPeriod: Duration.minutes(15),
} as const;

export interface MonitoredFunction {
  /** PascalCase id used in the alarm's construct id, e.g. `ApiCheckouts`. */
  readonly name: string;
  readonly fn: IFunction;
  /** Throws business outcomes as errors (a saga step): alarm on the error rate, not the count. */
  readonly errorsAreOutcomes?: boolean;
}

export interface MonitoringConstructProps {
  readonly stateMachine: sfn.IStateMachine;
  readonly httpApi: apigwv2.IHttpApi;
  readonly functions: readonly MonitoredFunction[];
  /** Optional e-mail subscription (`-c alarmEmail=ops@example.com`); it must be confirmed by mail. */
  readonly alarmEmail?: string | undefined;
}

export class MonitoringConstruct extends Construct {
  readonly alarmTopic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringConstructProps) {
    super(scope, id);

    // CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed SNS key, so the
    // topic gets its own key that names CloudWatch as a user.
    const topicKey = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the Paystep alarm topic; CloudWatch alarms may use it to publish',
      enableKeyRotation: true,
    });
    denyGrantsExceptForAwsServices(topicKey);
    topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Paystep alarms',
      masterKey: topicKey,
      enforceSSL: true,
    });
    if (props.alarmEmail !== undefined) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const action = new SnsAction(this.alarmTopic);

    // One period breaching is enough: every alarm here means a payment or a merchant is affected now.
    const alarm = (alarmId: string, alarmProps: Omit<cloudwatch.AlarmProps, 'evaluationPeriods'>): cloudwatch.Alarm => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...alarmProps,
        evaluationPeriods: 1,
      });
      created.addAlarmAction(action);
      this.alarms.push(created);
      return created;
    };
    const atLeastOnce = { threshold: 1, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD };

    // ---- Saga ----
    alarm('CheckoutExecutionsFailed', {
      alarmDescription:
        'A checkout saga execution failed (an unhandled error escaped every Catch): its checkout may be stuck in processing.',
      metric: props.stateMachine.metricFailed({ period: ALARM_SETTINGS.period, statistic: 'Sum' }),
      ...atLeastOnce,
    });
    alarm('CheckoutExecutionsTimedOut', {
      alarmDescription: 'A checkout saga execution timed out: its checkout may be stuck in processing.',
      metric: props.stateMachine.metricTimedOut({ period: ALARM_SETTINGS.period, statistic: 'Sum' }),
      ...atLeastOnce,
    });

    // ---- Webhooks ----
    alarm('WebhookDeadLettered', {
      alarmDescription:
        'A merchant webhook was dead-lettered after its last retry (GET /v1/events shows it; POST /v1/events/{id}/redeliver resends it).',
      metric: new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: PAYSTEP_METRICS.webhookDeadLettered,
        dimensionsMap: { [METRICS_SERVICE_DIMENSION]: POWERTOOLS_SERVICE_NAME },
        period: ALARM_SETTINGS.period,
        statistic: 'Sum',
      }),
      ...atLeastOnce,
    });

    // ---- API ----
    alarm('Api5xxRate', {
      alarmDescription: `More than ${ALARM_SETTINGS.api5xxPercent}% of API requests answered 5xx (with at least ${ALARM_SETTINGS.api5xxMinRequests} requests).`,
      metric: new cloudwatch.MathExpression({
        label: 'API 5xx rate (%)',
        expression: `IF(requests >= ${ALARM_SETTINGS.api5xxMinRequests}, 100 * errors / requests, 0)`,
        usingMetrics: {
          errors: props.httpApi.metricServerError({ period: ALARM_SETTINGS.period, statistic: 'Sum' }),
          requests: props.httpApi.metricCount({ period: ALARM_SETTINGS.period, statistic: 'Sum' }),
        },
        period: ALARM_SETTINGS.period,
      }),
      threshold: ALARM_SETTINGS.api5xxPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });

    // ---- Every function ----
    for (const { name, fn, errorsAreOutcomes } of props.functions) {
      if (errorsAreOutcomes === true) {
        const period = ALARM_SETTINGS.sagaStepPeriod;
        alarm(`${name}ErrorRate`, {
          alarmDescription: `${name}: more than ${ALARM_SETTINGS.sagaStepErrorPercent}% of invocations failed (business outcomes are thrown as errors, so a single one is normal).`,
          metric: new cloudwatch.MathExpression({
            label: `${name} error rate (%)`,
            expression: `IF(invocations >= ${ALARM_SETTINGS.sagaStepMinInvocations}, 100 * errors / invocations, 0)`,
            usingMetrics: {
              errors: fn.metricErrors({ period, statistic: 'Sum' }),
              invocations: fn.metricInvocations({ period, statistic: 'Sum' }),
            },
            period,
          }),
          threshold: ALARM_SETTINGS.sagaStepErrorPercent,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        });
      } else {
        alarm(`${name}Errors`, {
          alarmDescription: `${name} failed (an unhandled error or a timeout; handled API errors answer 4xx/5xx without failing the function).`,
          metric: fn.metricErrors({ period: ALARM_SETTINGS.period, statistic: 'Sum' }),
          ...atLeastOnce,
        });
      }
      alarm(`${name}Throttles`, {
        alarmDescription: `${name} was throttled (account or reserved concurrency exhausted).`,
        metric: fn.metricThrottles({ period: ALARM_SETTINGS.period, statistic: 'Sum' }),
        ...atLeastOnce,
      });
    }
  }
}
