/**
 * The public HTTP API as deployed: every row of API_ROUTES is a route with its exact route key,
 * wired to the function of its entry, on a throttled, access-logged $default stage.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES, routeKey } from '../../lib/api-routes';
import { API_THROTTLE } from '../../lib/stateless-stack';
import {
  getAtt,
  logicalIdOf,
  ref,
  resourcesOfType,
  synthPaystep,
  type Json,
  type JsonObject,
  type SynthesizedPaystep,
} from './synth-paystep';

describe('HTTP API', () => {
  let synth: SynthesizedPaystep;
  let routes: JsonObject[];
  let integrations: Record<string, JsonObject>;

  beforeAll(() => {
    // Prepare
    synth = synthPaystep();
    routes = Object.values(resourcesOfType(synth.statelessJson, 'AWS::ApiGatewayV2::Route')).map(
      (r) => r.Properties as JsonObject,
    );
    integrations = resourcesOfType(synth.statelessJson, 'AWS::ApiGatewayV2::Integration');
  });

  it('has exactly one route per API_ROUTES row, each integrated with the function of its entry', () => {
    // Act
    const byKey = new Map(routes.map((route) => [route.RouteKey as string, route]));
    // Assess
    expect([...byKey.keys()].sort()).toEqual(API_ROUTES.map(routeKey).sort());
    expect(routes).toHaveLength(API_ROUTES.length);
    for (const apiRoute of API_ROUTES) {
      const route = byKey.get(routeKey(apiRoute))!;
      expect(route.ApiId).toEqual(ref(synth.stateless.httpApi));
      const target = (route.Target as { 'Fn::Join': [string, Json[]] })['Fn::Join'][1];
      expect(target[0]).toBe('integrations/');
      const integrationId = (target[1] as { Ref: string }).Ref;
      const integration = integrations[integrationId]!.Properties as JsonObject;
      expect(integration, routeKey(apiRoute)).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: getAtt(synth.stateless.apiFunctions.get(apiRoute.entry)!, 'Arn'),
      });
    }
  });

  it('lets API Gateway invoke each API function only from its own route of this API', () => {
    // Prepare
    const apiFunctionIds = new Set([...synth.stateless.apiFunctions.values()].map((fn) => JSON.stringify(getAtt(fn, 'Arn'))));
    // Every permission on an API function (the webhook dispatcher's schedule permission is not one).
    const permissions = Object.values(resourcesOfType(synth.statelessJson, 'AWS::Lambda::Permission'))
      .map((p) => p.Properties as JsonObject)
      .filter((p) => JSON.stringify(p.FunctionName) !== JSON.stringify(getAtt(synth.stateless.webhookDispatcher, 'Arn')))
      .filter((p) => JSON.stringify(p.FunctionName) !== JSON.stringify(getAtt(synth.stateless.reconciliationSweep, 'Arn')));
    // Assess
    expect(permissions).toHaveLength(API_ROUTES.length);
    for (const permission of permissions) {
      expect(permission.Principal).toBe('apigateway.amazonaws.com');
      expect(permission.Action).toBe('lambda:InvokeFunction');
      expect(apiFunctionIds.has(JSON.stringify(permission.FunctionName))).toBe(true);
      expect(JSON.stringify(permission.SourceArn)).toContain(logicalIdOf(synth.stateless.httpApi));
    }
  });

  it('serves a $default stage with throttling and JSON access logs that carry no headers', () => {
    // Prepare
    const stages = Object.values(resourcesOfType(synth.statelessJson, 'AWS::ApiGatewayV2::Stage')).map(
      (s) => s.Properties as JsonObject,
    );
    // Assess
    expect(stages).toHaveLength(1);
    const stage = stages[0]!;
    expect(stage).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: API_THROTTLE.rateLimit, ThrottlingBurstLimit: API_THROTTLE.burstLimit },
    });
    const accessLog = stage.AccessLogSettings as JsonObject;
    expect(accessLog.DestinationArn).toEqual(getAtt(synth.stateless.node.findChild('ApiAccessLogGroup'), 'Arn'));
    const format = JSON.parse(accessLog.Format as string) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', routeKey: '$context.routeKey', status: '$context.status' });
    expect(accessLog.Format).not.toMatch(/header|authorizer|requestBody/i);
  });

  it('outputs ApiUrl, EgressIps and StateMachineArn', () => {
    // Prepare
    const outputs = synth.statelessJson.Outputs as Record<string, { Value: Json }>;
    // Assess
    expect(JSON.stringify(outputs.ApiUrl!.Value)).toContain(logicalIdOf(synth.stateless.httpApi));
    expect(JSON.stringify(outputs.ApiUrl!.Value)).toContain('.execute-api.');
    expect(outputs.StateMachineArn!.Value).toEqual(ref(synth.stateless.stateMachine));
    const eips = synth.stateful.network.node.children
      .filter((c) => c.node.id.startsWith('EgressIp'))
      .map((eip) => getAtt(eip, 'PublicIp'));
    expect(eips.length).toBeGreaterThanOrEqual(1);
    // CDK folds a one-element Fn::Join into the element itself.
    expect(outputs.EgressIps!.Value).toEqual(eips.length === 1 ? eips[0] : { 'Fn::Join': [',', eips] });
  });
});
