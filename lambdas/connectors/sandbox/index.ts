/**
 * The `sandbox` connector (DESIGN "Sandbox PSP"): its gateway, callback reader, status mapping and
 * configuration, behind the one Connector interface the registry lists.
 */
import type { Connector } from '../registry';
import type { CallbackReader } from '../../ports/callbacks';
import { sandboxCallbackReader } from './callbacks';
import { sandboxCallbackSecretsFromEnv, sandboxGatewayOptionsFromEnv } from './config';
import { SandboxPspGateway } from './gateway';

export const sandboxConnector: Connector = {
  id: 'sandbox',
  async gatewayFromEnv() {
    const options = sandboxGatewayOptionsFromEnv();
    return options === undefined ? undefined : new SandboxPspGateway(options);
  },
};

/** The callback reader with the configured secrets, or undefined when no SANDBOX_PSP_CALLBACK_SECRET is set (lambdas/connectors/callback-readers.ts). */
export async function sandboxCallbackReaderFromEnv(): Promise<CallbackReader | undefined> {
  const secrets = await sandboxCallbackSecretsFromEnv();
  return secrets.length === 0 ? undefined : sandboxCallbackReader(secrets);
}
