/**
 * The Stripe sandbox reads bodies the way the SDK writes them: form encoding with bracket notation.
 */
import { describe, expect, it } from 'vitest';
import { parseStripeForm } from '../../../local/stripe-sandbox/form';

describe('parseStripeForm', () => {
  it('nests bracketed keys and turns indexed and empty brackets into arrays', () => {
    // Prepare
    const body =
      'amount=500&currency=eur&metadata%5Breference%5D=chk_1&card%5Bnumber%5D=4242&expand%5B0%5D=latest_charge&expand%5B1%5D=customer&tags%5B%5D=a&tags%5B%5D=b';
    // Act
    const form = parseStripeForm(body);
    // Assess
    expect(form).toEqual({
      amount: '500',
      currency: 'eur',
      metadata: { reference: 'chk_1' },
      card: { number: '4242' },
      expand: ['latest_charge', 'customer'],
      tags: ['a', 'b'],
    });
  });

  it('ignores malformed keys instead of guessing', () => {
    // Act
    const form = parseStripeForm('ok=1&bad%5B=2&%5Bx%5D=3');
    // Assess
    expect(form).toEqual({ ok: '1' });
  });
});
