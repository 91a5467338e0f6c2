/**
 * The delivery of one event to one endpoint: at-least-once, its state persisted between attempts;
 * when to attempt again is lambdas/domain/webhook-schedule.ts.
 */

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'dead_lettered' | 'disabled';

/** One HTTP attempt of one delivery, as GET /v1/events shows it. */
export interface DeliveryAttemptRecord {
  /** 1-based over the delivery's life (redeliveries continue the count). */
  number: number;
  at: string;
  ok: boolean;
  httpStatus?: number;
  latencyMs: number;
  error?: string;
  responseExcerpt?: string;
}

/** The delivery of one event to one endpoint: at-least-once, state persisted between attempts. */
export interface WebhookDelivery {
  eventId: string;
  endpointId: string;
  merchantId: string;
  status: WebhookDeliveryStatus;
  /** Attempts made in the current schedule round (a redelivery starts a new round at 0). */
  attempt: number;
  /** When the next attempt is due (pending), or when the last lease ends. ISO 8601. */
  nextAttemptAt: string;
  attempts: DeliveryAttemptRecord[];
  updatedAt: string;
}
