/**
 * `npm run sandbox-psp -- --callback-url <ApiUrl>/v1/psp/sandbox/callbacks [--port 3001] [--host 0.0.0.0]
 * [--data-file <path>]` with SANDBOX_PSP_CALLBACK_SECRET in the environment: the sandbox PSP on its
 * own, for a deployed stack. Run it on a host that AWS can reach over https (behind a TLS proxy or
 * tunnel), pass that https URL to `cdk deploy -c sandboxPspUrl=...`, and give it the deployed
 * stack's callback secret (output PspCallbackSecretArn) so Paystep accepts its signed callbacks.
 */
import '../local/polyfills';
import { startSandboxPsp } from '../local/sandbox-psp/server';

function option(name: string, fallback?: string): string | undefined {
  const args = process.argv.slice(2);
  const index = args.indexOf(`--${name}`);
  if (index >= 0) return args[index + 1];
  const inline = args.find((arg) => arg.startsWith(`--${name}=`));
  return inline === undefined ? fallback : inline.slice(name.length + 3);
}

const callbackUrl = option('callback-url');
const secret = process.env.SANDBOX_PSP_CALLBACK_SECRET;
if (
  callbackUrl === undefined ||
  !/^https?:\/\/\S+\/v1\/psp\/sandbox\/callbacks$/.test(callbackUrl) ||
  secret === undefined ||
  secret === ''
) {
  console.error(
    'usage: SANDBOX_PSP_CALLBACK_SECRET=<secret> npm run sandbox-psp -- --callback-url <ApiUrl>/v1/psp/sandbox/callbacks [--port 3001] [--host 0.0.0.0] [--data-file <path>]',
  );
  process.exit(2);
}
const dataFile = option('data-file');
const psp = await startSandboxPsp({
  port: Number(option('port', '3001')),
  host: option('host', '127.0.0.1'),
  callbacks: { url: callbackUrl, secret },
  ...(dataFile !== undefined ? { dataFile } : {}),
  log: (line) => console.error(line),
});
console.log(`Sandbox PSP: ${psp.url} (callbacks to ${callbackUrl})`);
const stop = (): void => {
  void psp.stop().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
