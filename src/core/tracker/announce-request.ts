/**
 * One announce to one tracker, as a request (or two) on the wire.
 *
 * Address families: a tracker whose host has IPv4 and IPv6 addresses gets
 * each announce over both at once (two requests, counted as one announce:
 * it succeeds when either answers, and waits for the slower family only
 * `familyGraceMs` after the first answer). That is how a tracker learns both
 * our addresses, and how a UDP tracker, which answers only peers of the
 * request's own family (BEP 15), hands out both kinds. A host with IPv4 only
 * is told our IPv6 address, if we have a public one (BEP 7).
 */
import { httpAnnounce, type HttpTrackerOptions } from './http-tracker.ts';
import type { AnnounceParams, AnnounceResponse } from './types.ts';
import type { UdpTracker } from './udp-tracker.ts';
import { hostFamilies, systemResolver, type Resolver } from './resolve.ts';
import { gatherFamilyAnswers, mergeFamilyResponses } from './family-answers.ts';
import { globalIpv6Address } from '../net/own-address.ts';

/** Where an announce goes. */
export interface AnnounceTarget {
  url: string;
  /** The URL's host without brackets: its address families decide how it is announced to. */
  host: string;
  /** The UDP tracker client, or null for HTTP(S). */
  udp: UdpTracker | null;
}

/** What every request of one announcer shares (the announcer's options of the same names). */
export interface AnnounceRequestOptions {
  /** Per-request HTTP options (timeout, body cap, redirects). */
  http?: Omit<HttpTrackerOptions, 'signal'>;
  /** Name resolution for every tracker request; default the OS resolver. */
  resolve?: Resolver;
  /**
   * Our public IPv6 address, sent as BEP 7 `ipv6=` to HTTP trackers that have
   * no IPv6 address of their own. Default: the first global unicast IPv6
   * address of this machine's interfaces, read at each announce.
   */
  ownIpv6?: () => string | undefined;
  /**
   * Announcing over both families: how long to wait for the second after the
   * first answered, milliseconds (its peers still count when they come
   * later). Default 1000.
   */
  familyGraceMs?: number;
}

export interface AnnounceCall {
  signal: AbortSignal;
  /** Bound on this announce (the `stopped` ones at shutdown); default the clients' own. */
  timeoutMs?: number;
  /** The slower family answered after the announce was reported: its response, for its peers. */
  late: (response: AnnounceResponse) => void;
}

/**
 * Announces `params` to `target`; the announce succeeds when either family
 * does, with the peers of both (see the header comment).
 */
export async function announceRequest(
  target: AnnounceTarget,
  params: AnnounceParams,
  options: AnnounceRequestOptions,
  call: AnnounceCall,
): Promise<AnnounceResponse> {
  const families = await hostFamilies(options.resolve ?? systemResolver, target.host);
  if (families.length < 2) {
    const ipv6 = families[0] === 4 && !target.udp ? ownIpv6(options) : undefined;
    return announceOver(target, { ...params, ipv6 }, undefined, options, call);
  }
  const { answers, late } = await gatherFamilyAnswers(
    families.map((family) => announceOver(target, params, family, options, call)),
    options.familyGraceMs ?? 1000,
  );
  for (const answer of late) answer.then(call.late, () => {});
  return mergeFamilyResponses(answers);
}

function ownIpv6(options: AnnounceRequestOptions): string | undefined {
  try {
    return (options.ownIpv6 ?? globalIpv6Address)();
  } catch {
    return undefined;
  }
}

function announceOver(
  target: AnnounceTarget,
  params: AnnounceParams,
  family: 4 | 6 | undefined,
  options: AnnounceRequestOptions,
  { signal, timeoutMs }: AnnounceCall,
): Promise<AnnounceResponse> {
  if (target.udp) {
    const retransmitMs = timeoutMs === undefined ? undefined : [timeoutMs];
    return target.udp.announce(params, { signal, retransmitMs, family });
  }
  const http = { resolve: options.resolve, ...options.http, signal, family };
  if (timeoutMs !== undefined) http.timeoutMs = Math.min(http.timeoutMs ?? timeoutMs, timeoutMs);
  return httpAnnounce(target.url, params, http);
}
