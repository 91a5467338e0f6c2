/**
 * One event of the merchant's log (GET /v1/events/{id}).
 *
 * Primary course:
 * 1. Return the merchant's event with its deliveries; 404 when unknown or another merchant's.
 */
import { NotFoundError } from '../../errors';
import type { EventStore, EventWithDeliveries } from '../../ports/events';

export async function getEvent(
  deps: { events: EventStore },
  input: { merchantId: string; eventId: string },
): Promise<EventWithDeliveries> {
  const found = await deps.events.getEvent(input.eventId, input.merchantId);
  if (!found) throw new NotFoundError(`No event ${input.eventId}`, { param: 'id' });
  return found;
}
