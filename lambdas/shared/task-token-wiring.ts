/**
 * The Step Functions task-token and execution client (SfnTaskTokens over the AWS JSON client), for
 * the entries that resume or inspect saga executions: the PSP callback API and the AwaitAuthorization /
 * AwaitAuthentication steps at their cold start (through callback-wiring.ts), the reconciliation
 * sweep on first use (recovery-lazy.ts).
 *
 * Env: SFN_ENDPOINT (the local emulator) optional.
 */
import { createSfnClient } from '../adapters/sfn-client';
import { SfnTaskTokens } from '../adapters/sfn-task-tokens';
import { optionalEnv } from './env';

const sfnEndpoint = optionalEnv('SFN_ENDPOINT', '');
export const taskTokens = new SfnTaskTokens(createSfnClient(sfnEndpoint === '' ? {} : { endpoint: sfnEndpoint }));
