/**
 * The Step Functions task-token and execution client (SfnTaskTokens over client-sfn), for the
 * entries that resume or inspect saga executions: the PSP callback API and the AwaitAuthorization /
 * AwaitAuthentication steps at their cold start (through callback-wiring.ts), the reconciliation
 * sweep on first use (recovery-lazy.ts).
 *
 * Env: SFN_ENDPOINT (the local emulator) optional.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { sdkRequestHandler } from '../adapters/aws-sdk-timeouts';
import { SfnTaskTokens } from '../adapters/sfn-task-tokens';
import { optionalEnv } from './env';

const sfnEndpoint = optionalEnv('SFN_ENDPOINT', '');
export const taskTokens = new SfnTaskTokens(
  new SFNClient(sfnEndpoint === '' ? { requestHandler: sdkRequestHandler() } : { endpoint: sfnEndpoint }),
);
