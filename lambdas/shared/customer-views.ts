/**
 * The public JSON of customers and payment methods (snake_case). A payment method shows brand,
 * last4, expiry and fingerprint: never the number, never the CVC, never anything encrypted.
 */
import type { Customer } from '../domain/customer';
import type { PaymentMethod } from '../domain/payment-method';

export function toPaymentMethodView(paymentMethod: PaymentMethod) {
  return {
    id: paymentMethod.id,
    object: 'payment_method' as const,
    type: paymentMethod.type,
    card: {
      brand: paymentMethod.card.brand,
      last4: paymentMethod.card.last4,
      exp_month: paymentMethod.card.expMonth,
      exp_year: paymentMethod.card.expYear,
      fingerprint: paymentMethod.card.fingerprint,
    },
    customer: paymentMethod.customerId ?? null,
    status: paymentMethod.status,
    created_at: paymentMethod.createdAt,
  };
}

export function toCustomerView(customer: Customer) {
  if (customer.status === 'deleted') return { id: customer.id, object: 'customer' as const, deleted: true as const };
  return {
    id: customer.id,
    object: 'customer' as const,
    email: customer.email ?? null,
    name: customer.name ?? null,
    metadata: customer.metadata ?? {},
    created_at: customer.createdAt,
  };
}
