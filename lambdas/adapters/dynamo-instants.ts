/**
 * Instants in the compact item layouts (the checkout item, dynamo-checkout-layout.ts; the event
 * item, dynamo-event-codec.ts): epoch milliseconds when that restores the very same ISO string.
 * A module of its own so the event codec takes these without the checkout layout's name tables.
 */

/** A timestamp as epoch milliseconds when that restores the very same string, else the string. */
export function compactInstant(value: string): number | string {
  const epoch = Date.parse(value);
  return Number.isFinite(epoch) && new Date(epoch).toISOString() === value ? epoch : value;
}

/** The ISO string a stored instant (epoch ms, or the string kept as it was) stands for. */
export function instantOf(value: unknown): string {
  return typeof value === 'number' ? new Date(value).toISOString() : (value as string);
}
