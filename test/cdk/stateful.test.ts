/**
 * The stateful stack: the one table (keys from TABLE_SCHEMA, PITR, TTL, KMS with a rotating
 * customer-managed key, on-demand), its prod protection, the secrets, and the egress network whose
 * NAT gateways use Elastic IPs allocated here (so they can be output and whitelisted).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SECRETS_KEY_LENGTH } from '../../lib/stateful-stack';
import { TABLE_SCHEMA } from '../../lib/table-schema';
import {
  getAtt,
  logicalIdOf,
  ref,
  resourcesOfType,
  synthPaystep,
  type JsonObject,
  type SynthesizedPaystep,
} from './synth-paystep';

describe('stateful stack (dev)', () => {
  let synth: SynthesizedPaystep;
  let table: JsonObject;

  beforeAll(() => {
    synth = synthPaystep();
    table = (synth.statefulJson.Resources as Record<string, JsonObject>)[logicalIdOf(synth.stateful.table)]!;
  });

  it('has one on-demand table keyed as TABLE_SCHEMA says, with its three GSIs (gsi1 ALL, gsi2 and gsi3 keys only) and TTL (and the card vault table beside it, nothing else)', () => {
    // Assess
    expect(Object.keys(resourcesOfType(synth.statefulJson, 'AWS::DynamoDB::Table')).sort()).toEqual(
      [logicalIdOf(synth.stateful.table), logicalIdOf(synth.stateful.cardVault.table)].sort(),
    );
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: 'gsi2',
          KeySchema: [
            { AttributeName: 'gsi2pk', KeyType: 'HASH' },
            { AttributeName: 'gsi2sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
        {
          IndexName: 'gsi3',
          KeySchema: [
            { AttributeName: 'gsi3pk', KeyType: 'HASH' },
            { AttributeName: 'gsi3sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
      TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.timeToLiveAttribute, Enabled: true },
    });
  });

  it('has point-in-time recovery and SSE with its rotating customer-managed KMS key', () => {
    // Assess
    expect(table.Properties).toMatchObject({
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: getAtt(synth.stateful.tableKey, 'Arn') },
    });
    const key = (synth.statefulJson.Resources as Record<string, JsonObject>)[logicalIdOf(synth.stateful.tableKey)]!;
    expect(key.Properties).toMatchObject({ EnableKeyRotation: true });
  });

  it('can be torn down in dev: no deletion protection, Delete policy', () => {
    expect((table.Properties as JsonObject).DeletionProtectionEnabled).toBe(false);
    expect(table.DeletionPolicy).toBe('Delete');
  });

  it('generates the five secrets (the two Stripe ones as placeholders an operator replaces); the secrets key as 43 alphanumerics (valid base64 of a 32-byte key)', () => {
    const secrets = resourcesOfType(synth.statefulJson, 'AWS::SecretsManager::Secret');
    const secretsKey = secrets[logicalIdOf(synth.stateful.secretsKeySecret)]!;
    expect(Object.keys(secrets).sort()).toEqual(
      [
        logicalIdOf(synth.stateful.adminTokenSecret),
        logicalIdOf(synth.stateful.secretsKeySecret),
        logicalIdOf(synth.stateful.pspCallbackSecret),
        logicalIdOf(synth.stateful.stripeApiKeySecret),
        logicalIdOf(synth.stateful.stripeWebhookSecret),
      ].sort(),
    );
    expect(secretsKey.Properties).toMatchObject({
      GenerateSecretString: { PasswordLength: SECRETS_KEY_LENGTH, ExcludePunctuation: true, IncludeSpace: false },
    });
    expect(Buffer.from('A'.repeat(SECRETS_KEY_LENGTH), 'base64')).toHaveLength(32);
  });

  it('routes private-subnet egress through NAT gateways on Elastic IPs it allocates, and logs VPC flows', () => {
    // Prepare
    const eips = resourcesOfType(synth.statefulJson, 'AWS::EC2::EIP');
    const nats = Object.values(resourcesOfType(synth.statefulJson, 'AWS::EC2::NatGateway')).map(
      (nat) => nat.Properties as JsonObject,
    );
    const routes = Object.values(resourcesOfType(synth.statefulJson, 'AWS::EC2::Route')).map(
      (route) => route.Properties as JsonObject,
    );
    // Assess
    expect(nats).toHaveLength(1);
    expect(Object.keys(eips)).toHaveLength(1);
    expect(nats.map((nat) => nat.AllocationId)).toEqual(Object.keys(eips).map((id) => ({ 'Fn::GetAtt': [id, 'AllocationId'] })));
    const natGateway = synth.stateful.network.vpc.publicSubnets[0]!.node.findChild('NATGateway');
    for (const subnet of synth.stateful.network.vpc.privateSubnets) {
      const defaultRoute = routes.find(
        (route) =>
          JSON.stringify(route.RouteTableId).includes(logicalIdOf(subnet.node.findChild('RouteTable'))) &&
          route.DestinationCidrBlock === '0.0.0.0/0',
      );
      expect(defaultRoute?.NatGatewayId, subnet.node.id).toEqual(ref(natGateway));
    }
    expect(Object.keys(resourcesOfType(synth.statefulJson, 'AWS::EC2::FlowLog'))).toHaveLength(1);
    expect(Object.keys(resourcesOfType(synth.statefulJson, 'AWS::EC2::VPCEndpoint'))).toHaveLength(1);
  });
});

describe('stateful stack (prod)', () => {
  let synth: SynthesizedPaystep;

  beforeAll(() => {
    synth = synthPaystep({ stage: 'prod' });
  });

  it('protects the table, key, secrets and Elastic IPs from deletion', () => {
    // Prepare
    const resources = synth.statefulJson.Resources as Record<string, JsonObject>;
    const table = resources[logicalIdOf(synth.stateful.table)]!;
    // Assess
    expect((table.Properties as JsonObject).DeletionProtectionEnabled).toBe(true);
    for (const type of ['AWS::DynamoDB::Table', 'AWS::KMS::Key', 'AWS::SecretsManager::Secret', 'AWS::EC2::EIP']) {
      for (const [id, resource] of Object.entries(resourcesOfType(synth.statefulJson, type))) {
        expect(resource.DeletionPolicy, id).toBe('Retain');
        expect(resource.UpdateReplacePolicy, id).toBe('Retain');
      }
    }
    expect(synth.stateful.terminationProtection).toBe(true);
    expect(synth.stateful.stackName).toBe('paystep-prod-stateful');
  });

  it('runs one NAT gateway per AZ, each on its own Elastic IP, and outputs all of them', () => {
    // Prepare
    const eipIds = Object.keys(resourcesOfType(synth.statefulJson, 'AWS::EC2::EIP'));
    const nats = Object.values(resourcesOfType(synth.statefulJson, 'AWS::EC2::NatGateway')).map(
      (nat) => nat.Properties as JsonObject,
    );
    // Assess
    expect(eipIds).toHaveLength(2);
    expect(nats.map((nat) => JSON.stringify(nat.AllocationId)).sort()).toEqual(
      eipIds.map((id) => JSON.stringify({ 'Fn::GetAtt': [id, 'AllocationId'] })).sort(),
    );
    const outputs = synth.statelessJson.Outputs as Record<string, { Value: JsonObject }>;
    expect(outputs.EgressIps!.Value).toEqual({ 'Fn::Join': [',', eipIds.map((id) => ({ 'Fn::GetAtt': [id, 'PublicIp'] }))] });
  });
});
