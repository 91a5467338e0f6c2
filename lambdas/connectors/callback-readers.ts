/**
 * The connectors' callback readers, for the functions that take PSP callbacks (callback-wiring.ts
 * builds them at cold start): a new connector that takes callbacks adds its line here, beside its
 * line in registry.ts. Apart from the registry because a reader needs less of its connector than a
 * gateway: Stripe's reader is built from its secrets alone and imports the Stripe SDK on its
 * first callback (stripe/callback-reader.ts), so the callback functions' cold start does not load
 * the SDK, and the functions that only pay do not bundle this map (issue 14, round 7).
 */
import type { CallbackReader } from '../ports/callbacks';
import type { ConnectorId } from './connector-ids';

/** Each connector's reader with its configured secrets, or undefined where it accepts no callbacks. */
const READERS: Readonly<Record<ConnectorId, () => Promise<CallbackReader | undefined>>> = {
  sandbox: async () => await (await import('./sandbox')).sandboxCallbackReaderFromEnv(),
  stripe: async () => await (await import('./stripe/callback-reader')).stripeCallbackReaderFromEnv(),
};

/** The callback readers of every connector that accepts callbacks in this function. */
export async function callbackReadersFromEnv(): Promise<Record<string, CallbackReader>> {
  const readers: Record<string, CallbackReader> = {};
  for (const [id, readerFromEnv] of Object.entries(READERS)) {
    const reader = await readerFromEnv();
    if (reader !== undefined) readers[id] = reader;
  }
  return readers;
}
