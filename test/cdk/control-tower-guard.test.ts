/**
 * AWS Control Tower's proactive controls (cfn-guard, `@cdklabs/cdk-validator-cfnguard`) on the
 * synthesized templates, registered as bin/app.ts registers it for `npm run synth`: no
 * unacknowledged finding, the fixed rules (KMS grants, public-IP subnets, one-year retention in
 * prod) are not reported at all, and the acknowledged findings are exactly the reviewed list of
 * lib/control-tower-guard.ts, each with its reason.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../lib/api-routes';
import { GUARD_EXCEPTIONS } from '../../lib/control-tower-guard';
import { PaystepFunction } from '../../lib/constructs/paystep-function';
import { REPO_ROOT } from '../../lib/repo-root';
import { resourcesOfType, synthPaystep, type JsonObject } from './synth-paystep';

const execFileAsync = promisify(execFile);

interface GuardViolation {
  ruleName: string;
  violatingConstructs: { constructPath: string }[];
  reason?: string;
}
interface GuardReport {
  pluginName: string;
  violations: GuardViolation[];
  suppressedViolations?: GuardViolation[];
}

/** Runs test/cdk/guard-synth.ts in a child process (cfn-guard would block this worker ~30 s). */
async function synthWithGuard(stage: string, options: { withUnreviewedKey?: boolean } = {}): Promise<GuardReport> {
  const args = [
    '--import',
    'tsx',
    resolve(REPO_ROOT, 'test/cdk/guard-synth.ts'),
    stage,
    ...(options.withUnreviewedKey === true ? ['--with-unreviewed-key'] : []),
  ];
  const { stdout } = await execFileAsync(process.execPath, args, { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as GuardReport;
}

/** `<rule> <construct path without the stack prefix>`, sorted. */
function findings(violations: GuardViolation[] = []): string[] {
  return violations
    .flatMap((violation) =>
      violation.violatingConstructs.map(
        (construct) => `${violation.ruleName} ${construct.constructPath.replace(/^paystep-(dev|prod)-/, '')}`,
      ),
    )
    .sort();
}

/** Every function of the stateless stack, by construct id (each has a `<id>LogGroup` sibling). */
function deployedFunctionIds(): string[] {
  const synth = synthPaystep();
  return synth.stateless.node
    .findAll()
    .filter((construct) => construct instanceof PaystepFunction)
    .map((fn) => fn.node.id);
}

function routePath(route: (typeof API_ROUTES)[number]): string {
  return `stateless/HttpApi/${route.method}${route.path.replaceAll('/', '--')}`;
}

/** The reviewed acknowledged findings per rule (the resources each deliberate exception covers). */
function expectedAcknowledged(stage: string): string[] {
  const functionIds = deployedFunctionIds();
  const logGroups = [
    'stateful/Network/FlowLogGroup/Resource',
    'stateless/CheckoutStateMachineLogGroup/Resource',
    'stateless/ApiAccessLogGroup/Resource',
    ...functionIds.map((name) => `stateless/${name}LogGroup/Resource`),
  ];
  return [
    ...logGroups.map((path) => `${GUARD_EXCEPTIONS.logGroupsWithoutKmsKey.rule} ${path}`),
    ...(stage === 'dev' ? logGroups.map((path) => `${GUARD_EXCEPTIONS.devLogRetention.rule} ${path}`) : []),
    `${GUARD_EXCEPTIONS.cdkProviderOutsideVpc.rule} stateful/Custom::VpcRestrictDefaultSGCustomResourceProvider/Handler`,
    ...functionIds.map((name) => `${GUARD_EXCEPTIONS.lambdaOutsideVpc.rule} stateless/${name}/Resource`),
    ...API_ROUTES.map((route) => `${GUARD_EXCEPTIONS.routesWithoutGatewayAuthorizer.rule} ${routePath(route)}/Resource`),
    ...API_ROUTES.map(
      (route) =>
        `${GUARD_EXCEPTIONS.apiPermissionsWithIntrinsicSource.rule} ${routePath(route)}/${route.entry.replace(/(^|-)([a-z])/g, (_, _dash: string, c: string) => c.toUpperCase())}Integration-Permission`,
    ),
  ].sort();
}

describe.each(['dev', 'prod'])('Control Tower proactive controls, cfn-guard (stage %s)', (stage) => {
  it('reports no unacknowledged finding, none of the fixed rules, and exactly the reviewed acknowledgements with reasons', async () => {
    // Act
    const report = await synthWithGuard(stage);
    // Assess
    expect(findings(report.violations)).toEqual([]);
    const acknowledged = findings(report.suppressedViolations);
    const rules = new Set(acknowledged.map((finding) => finding.split(' ')[0]));
    for (const fixed of ['kms_create_grant_aws_service_check', 'subnet_auto_assign_public_ip_disabled_check'])
      expect(rules).not.toContain(fixed);
    if (stage === 'prod') expect(rules).not.toContain('cloudwatch_log_group_retention_period_check');
    expect(acknowledged).toEqual(expectedAcknowledged(stage));
    for (const violation of report.suppressedViolations ?? []) {
      expect(violation.reason?.length ?? 0, violation.ruleName).toBeGreaterThan(60);
    }
  }, 180_000);
});

describe('Control Tower proactive controls, guard check', () => {
  it('reports a newly added non-compliant resource (a KMS key without the grant restriction), so the test above can fail', async () => {
    // Act
    const report = await synthWithGuard('dev', { withUnreviewedKey: true });
    // Assess
    expect(findings(report.violations)).toEqual(['kms_create_grant_aws_service_check stateless/UnreviewedKey/Resource']);
  }, 180_000);
});

describe('Control Tower fixes in the templates', () => {
  it('every Lambda permission names this account as SourceAccount, and every KMS key denies grants not made for AWS services', () => {
    // Act
    const synth = synthPaystep();
    // Assess
    const permissions = Object.values(resourcesOfType(synth.statelessJson, 'AWS::Lambda::Permission'));
    expect(permissions.length).toBeGreaterThanOrEqual(API_ROUTES.length);
    for (const permission of permissions)
      expect((permission.Properties as JsonObject).SourceAccount).toEqual({ Ref: 'AWS::AccountId' });
    const keys = [
      ...Object.values(resourcesOfType(synth.statefulJson, 'AWS::KMS::Key')),
      ...Object.values(resourcesOfType(synth.statelessJson, 'AWS::KMS::Key')),
    ];
    // The table key, the alarm topic key and the card vault's three keys (table, data keys, fingerprints).
    expect(keys).toHaveLength(5);
    for (const key of keys) {
      const statements = ((key.Properties as JsonObject).KeyPolicy as { Statement: JsonObject[] }).Statement;
      expect(statements).toContainEqual(
        expect.objectContaining({
          Sid: 'DenyGrantsExceptForAwsServices',
          Effect: 'Deny',
          Action: 'kms:CreateGrant',
          Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
        }),
      );
    }
  });
});
