/**
 * The card's issuing country (ISO 3166-1 alpha-2), derived once at vault time from the card
 * number, for the routing condition `card_country` (DESIGN Part 2 "Routing and failover"). Pure,
 * no I/O, no network look-up. Not secret: it is stored with the payment method's metadata (brand,
 * last4), never shown in the `pm_` answer (DESIGN pins those fields).
 *
 * The data is a small, documented BIN table, enough for both local sandboxes and their test cards;
 * Paystep ships no commercial BIN database:
 * 1. Stripe's country test cards: `4000 00NNN…`, where NNN is the ISO 3166-1 numeric code of the
 *    issuing country (4000002760003184 -> 276 -> DE, 4000008260003178 -> 826 -> GB). `000` means
 *    "no country" (4000000000000002 and the other behaviour cards).
 * 2. Stripe's generic test cards, issued in the US (4242 4242 4242 4242, 5555 5555 5555 4444,
 *    3782 822463 10005).
 * Anything else has no known country: a rule with a `card_country` condition does not match it
 * (the next rule or `default` routes the payment).
 */

/** ISO 3166-1 numeric -> alpha-2 for the countries of Stripe's international test cards (plus US). */
const ISO_NUMERIC_TO_ALPHA2: Readonly<Record<string, string>> = {
  '036': 'AU',
  '040': 'AT',
  '056': 'BE',
  '076': 'BR',
  '124': 'CA',
  '156': 'CN',
  '208': 'DK',
  '246': 'FI',
  '250': 'FR',
  '276': 'DE',
  '344': 'HK',
  '356': 'IN',
  '372': 'IE',
  '380': 'IT',
  '392': 'JP',
  '442': 'LU',
  '484': 'MX',
  '528': 'NL',
  '554': 'NZ',
  '578': 'NO',
  '620': 'PT',
  '702': 'SG',
  '724': 'ES',
  '752': 'SE',
  '756': 'CH',
  '826': 'GB',
  '840': 'US',
};

/** Issuer identification numbers (leading digits) of test cards with a fixed country. */
const BIN_COUNTRIES: readonly (readonly [prefix: string, country: string])[] = [
  ['424242', 'US'],
  ['555555', 'US'],
  ['378282', 'US'],
];

/** The country prefix of Stripe's country test cards: `400000` then the ISO numeric code. */
const COUNTRY_TEST_CARD = /^400000(\d{3})/;

/** The issuing country of a card number (digits only), or undefined when the table does not know it. */
export function issuingCountryOf(number: string): string | undefined {
  const countryCard = COUNTRY_TEST_CARD.exec(number);
  if (countryCard !== null) return ISO_NUMERIC_TO_ALPHA2[countryCard[1]!];
  return BIN_COUNTRIES.find(([prefix]) => number.startsWith(prefix))?.[1];
}
