/**
 * Routing and failover rules, pure (DESIGN Part 2, "Routing and failover"): which connectors a
 * payment tries, in which order, and whether a failed attempt may move on to the next one. The
 * merchant's rules are stored on the merchant (`Merchant.routing`); a merchant without rules pays
 * through `DEFAULT_ROUTING`.
 */
import type { CardBrand } from './card';

export interface RoutingConditions {
  /** ISO 4217 codes (upper case). */
  currency?: string[];
  /** Minor units, inclusive lower bound. */
  amountGte?: number;
  /** Minor units, exclusive upper bound. */
  amountLt?: number;
  cardBrand?: CardBrand[];
  /** ISO 3166-1 alpha-2 issuing countries (upper case). */
  cardCountry?: string[];
}

export interface RoutingRule {
  conditions: RoutingConditions;
  /** Ordered connector ids; the first is tried first. */
  connectors: string[];
  /** `required`: the authorization asks for 3-D Secure even where the issuer would not challenge (issue 17). */
  threeDs?: 'required';
}

export interface RoutingConfig {
  rules: RoutingRule[];
  default: string[];
  failover: boolean;
}

/** DESIGN Part 2: a merchant with no routing set pays through `sandbox`, without failover. */
export const DEFAULT_ROUTING: RoutingConfig = { rules: [], default: ['sandbox'], failover: false };

/** What routing may look at; card facts are absent for a single-use PSP token. */
export interface RoutingFacts {
  amount: number;
  currency: string;
  cardBrand?: CardBrand;
  cardCountry?: string;
}

/** True when every condition the rule sets holds for the payment; a card condition fails without card facts. */
export function ruleMatches(conditions: RoutingConditions, facts: RoutingFacts): boolean {
  if (conditions.currency !== undefined && !conditions.currency.includes(facts.currency)) return false;
  if (conditions.amountGte !== undefined && facts.amount < conditions.amountGte) return false;
  if (conditions.amountLt !== undefined && facts.amount >= conditions.amountLt) return false;
  if (conditions.cardBrand !== undefined && (facts.cardBrand === undefined || !conditions.cardBrand.includes(facts.cardBrand))) {
    return false;
  }
  if (
    conditions.cardCountry !== undefined &&
    (facts.cardCountry === undefined || !conditions.cardCountry.includes(facts.cardCountry))
  ) {
    return false;
  }
  return true;
}

/** What routing decides for a payment: the ordered connectors, and whether the picked rule requires 3-D Secure. */
export interface RouteDecision {
  connectors: string[];
  threeDsRequired: boolean;
}

/** The first matching rule's connectors (and its `three_ds`), otherwise `default` (no 3-D Secure requirement). */
export function selectRoute(routing: RoutingConfig, facts: RoutingFacts): RouteDecision {
  const rule = routing.rules.find((candidate) => ruleMatches(candidate.conditions, facts));
  return { connectors: [...(rule?.connectors ?? routing.default)], threeDsRequired: rule?.threeDs === 'required' };
}

/** The ordered connectors for this payment: the first matching rule's list, otherwise `default`. */
export function selectConnectors(routing: RoutingConfig, facts: RoutingFacts): string[] {
  return selectRoute(routing, facts).connectors;
}

/** Soft declines: the issuer or PSP may say yes elsewhere or later, so failover may try the next connector. */
export const SOFT_DECLINE_CODES = ['do_not_honor', 'processing_error', 'try_again_later'] as const;

/** Whether `code` is a soft decline (SOFT_DECLINE_CODES). */
export function isSoftDecline(code: string): boolean {
  return (SOFT_DECLINE_CODES as readonly string[]).includes(code);
}

/** Hard declines: the card itself is refused; another connector would refuse it too (never fail over). */
export const HARD_DECLINE_CODES = [
  'insufficient_funds',
  'stolen_card',
  'expired_card',
  'incorrect_cvc',
  'authentication_failed',
] as const;

/** Why an attempt failed, as far as failover cares. */
export type AttemptFailureKind =
  | { kind: 'declined'; code: string }
  /** The PSP answered 503/connection refused, or timed out and its truth then said "not authorized". */
  | { kind: 'unavailable' }
  | { kind: 'timed_out_not_authorized' };

/**
 * Whether a failed attempt moves on to the next connector: only with failover on, only while one is
 * left, and only for an unavailable PSP, a settled timeout or a soft decline. Unknown decline codes
 * count as hard: failing over on them could charge a card its issuer meant to refuse.
 */
export function shouldFailOver(
  routing: Pick<RoutingConfig, 'failover'>,
  failure: AttemptFailureKind,
  connectorsLeft: number,
): boolean {
  if (!routing.failover || connectorsLeft <= 0) return false;
  if (failure.kind === 'declined') return isSoftDecline(failure.code);
  return true;
}
