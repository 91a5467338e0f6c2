/**
 * 3-D Secure in the chaos mix (bench/chaos.ts): challenge-card scenarios, and the harness playing
 * the buyer at the challenge page over HTTP. The card 4000002760003184 always challenges, on both
 * connectors; a `mug` (1250) goes to the sandbox PSP first, a `poster` (7500) to stripe first
 * (CHAOS_ROUTING), failover and outages permitting. Once the checkout shows `requires_action`, the
 * buyer opens `next_action.redirect_to_url.url` (GET: the page with its Complete and Fail
 * buttons) and submits `outcome=complete` or `outcome=fail` (302 back to the hosted page), or
 * walks away (`abandon`) and leaves the saga's abandonment timeout (compressed by
 * CHALLENGE_STACK_ENV) to fail it. The tally records what the buyer met and did, per connector;
 * `challengeOutcomes` how each kind ended, so the chaos test can check that a failed or abandoned
 * challenge never succeeded.
 */
import type { TimelineCheckout } from './checkout-driver';
import { sleep, TERMINAL_STATUSES } from './checkout-driver';

/** What the buyer does at the challenge page. */
export type ChallengeAnswer = 'complete' | 'fail' | 'abandon';

/** Always challenges; approved if the buyer completes (DESIGN Part 2 "3-D Secure (SCA)"). */
export const CHALLENGE_CARD = '4000002760003184';

/** The challenge scenarios chaos.ts adds to its mix (name, weight, card, sku, what the buyer does). */
export const CHALLENGE_SCENARIOS: readonly {
  name: string;
  weight: number;
  card: string;
  sku: string;
  challenge: ChallengeAnswer;
}[] = [
  { name: 'three_ds_challenge_completed', weight: 3, card: CHALLENGE_CARD, sku: 'mug', challenge: 'complete' },
  { name: 'three_ds_challenge_completed_large', weight: 3, card: CHALLENGE_CARD, sku: 'poster', challenge: 'complete' },
  { name: 'three_ds_challenge_failed', weight: 2, card: CHALLENGE_CARD, sku: 'mug', challenge: 'fail' },
  { name: 'three_ds_challenge_failed_large', weight: 2, card: CHALLENGE_CARD, sku: 'poster', challenge: 'fail' },
  { name: 'three_ds_challenge_abandoned', weight: 2, card: CHALLENGE_CARD, sku: 'mug', challenge: 'abandon' },
  { name: 'three_ds_challenge_abandoned_large', weight: 2, card: CHALLENGE_CARD, sku: 'poster', challenge: 'abandon' },
];

/** The abandonment timeout under chaos (15 min in production, 30 s locally by default). */
export const CHALLENGE_STACK_ENV: Record<string, string> = { PAYSTEP_AUTHENTICATION_WAIT_TIMEOUT_MS: '15000' };

/** What the buyers met at challenge pages and did there. */
export interface ChallengeTally {
  /** Challenges opened (`requires_action` seen), per connector of the attempt. */
  opened: Record<string, number>;
  completed: number;
  failed: number;
  abandoned: number;
  /** The checkout ended before the buyer saw a challenge (an outage failed it first, ...). */
  neverOpened: number;
  /** A page that did not show both buttons, or a submit not answered 302 (each a short note). */
  pageProblems: string[];
}

export function newChallengeTally(): ChallengeTally {
  return { opened: {}, completed: 0, failed: 0, abandoned: 0, neverOpened: 0, pageProblems: [] };
}

interface ChallengeView extends TimelineCheckout {
  next_action?: { type: string; redirect_to_url?: { url: string; return_url: string | null } } | null;
  payment?: { attempts?: { connector: string; status: string }[] } | null;
}

/**
 * Plays the buyer: waits (up to `waitMs`) for the challenge, then answers it at the page like a
 * browser would (GET the page, POST the chosen button), or walks away. Network errors while the
 * host restarts are retried until the deadline.
 */
export async function playBuyerAtChallenge(input: {
  read: () => Promise<TimelineCheckout>;
  answer: ChallengeAnswer;
  tally: ChallengeTally;
  waitMs: number;
}): Promise<void> {
  const deadline = Date.now() + input.waitMs;
  let view: ChallengeView | undefined;
  while (Date.now() < deadline) {
    try {
      view = (await input.read()) as ChallengeView;
    } catch {
      view = undefined; // host down: try again
    }
    if (view !== undefined && (TERMINAL_STATUSES.has(view.status) || view.status === 'requires_action')) break;
    await sleep(300);
  }
  const url = view?.status === 'requires_action' ? view.next_action?.redirect_to_url?.url : undefined;
  if (view === undefined || url === undefined) {
    input.tally.neverOpened += 1;
    return;
  }
  const connector = view.payment?.attempts?.at(-1)?.connector ?? 'unknown';
  input.tally.opened[connector] = (input.tally.opened[connector] ?? 0) + 1;
  if (input.answer === 'abandon') {
    input.tally.abandoned += 1;
    return;
  }
  while (Date.now() < deadline + 30_000) {
    try {
      const page = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      const html = await page.text();
      if (page.status !== 200 || !html.includes(`value="${input.answer}"`)) {
        input.tally.pageProblems.push(`${view.id}: page answered ${page.status} without the ${input.answer} button`);
      }
      const submitted = await fetch(url, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `outcome=${input.answer}`,
        signal: AbortSignal.timeout(10_000),
      });
      await submitted.arrayBuffer();
      if (submitted.status !== 302) input.tally.pageProblems.push(`${view.id}: ${input.answer} answered ${submitted.status}`);
      if (input.answer === 'complete') input.tally.completed += 1;
      else input.tally.failed += 1;
      return;
    } catch {
      await sleep(500); // the sandbox is restarting with the host
    }
  }
  input.tally.pageProblems.push(`${view.id}: the challenge page never answered`);
}

/** How each kind of challenge scenario ended: `<answer>` -> `<status>[:<failure_reason>]` -> count. */
export function challengeOutcomes(
  items: readonly { scenario: { challenge?: ChallengeAnswer }; last?: TimelineCheckout }[],
): Record<string, Record<string, number>> {
  const outcomes: Record<string, Record<string, number>> = {};
  for (const item of items) {
    const answer = item.scenario.challenge;
    if (answer === undefined) continue;
    const status = item.last?.status ?? 'unknown';
    const key = status === 'failed' ? `failed:${String(item.last?.failure_reason ?? 'none')}` : status;
    const row = (outcomes[answer] ??= {});
    row[key] = (row[key] ?? 0) + 1;
  }
  return outcomes;
}

/** The report line: challenges opened per connector, what the buyers did, how each kind ended. */
export function formatChallenges(challenges: {
  tally: ChallengeTally;
  outcomes: Record<string, Record<string, number>>;
}): string {
  const { tally, outcomes } = challenges;
  const opened = Object.entries(tally.opened)
    .map(([connector, n]) => `${connector} ${n}`)
    .join(', ');
  const ended = Object.entries(outcomes)
    .map(
      ([answer, row]) =>
        `${answer}: ${Object.entries(row)
          .map(([status, n]) => `${status} ${n}`)
          .join(' ')}`,
    )
    .join('; ');
  return `3-D Secure challenges: opened ${opened || 'none'}; buyer completed ${tally.completed}, failed ${tally.failed}, abandoned ${tally.abandoned}, never saw one ${tally.neverOpened}; page problems ${tally.pageProblems.length}; ended ${ended || 'none'}`;
}
