/**
 * The custom CloudWatch metrics Paystep emits (Embedded Metric Format, via Powertools Metrics in
 * observability.ts) and the CDK stack alarms on (lib/monitoring-construct.ts). One list, no AWS
 * import, so the handlers and the CDK app cannot disagree on a name.
 */

/** CloudWatch namespace of every custom metric. */
export const METRICS_NAMESPACE = 'Paystep';

/** Powertools adds `service` = POWERTOOLS_SERVICE_NAME as a dimension to every metric. */
export const METRICS_SERVICE_DIMENSION = 'service';

export const PAYSTEP_METRICS = {
  /** A checkout's saga recorded `succeeded` (CapturePayment's terminal write). */
  checkoutSucceeded: 'CheckoutSucceeded',
  /** A checkout's saga recorded `failed`; dimension `reason` = the failure_reason. */
  checkoutFailed: 'CheckoutFailed',
  /** Milliseconds per PSP call; dimensions `operation` (authorize, capture, ...) and `outcome` (ok, error). */
  pspCallLatency: 'PspCallLatency',
  /** Milliseconds the merchant took to answer the inventory confirmation; dimension `outcome`. */
  inventoryConfirmationLatency: 'InventoryConfirmationLatency',
  /** One webhook request that did not get a 2xx (it will be retried or dead-lettered). */
  webhookDeliveryFailed: 'WebhookDeliveryFailed',
  /** A webhook delivery gave up after its last scheduled attempt (its dead-letter record is written). */
  webhookDeadLettered: 'WebhookDeadLettered',
} as const;

export type PaystepMetricName = (typeof PAYSTEP_METRICS)[keyof typeof PAYSTEP_METRICS];
