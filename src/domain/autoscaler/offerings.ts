// Where a resource may be launched, in the order the policy tries them, and which of those
// places are cooling down after a capacity error. Pure helpers of the policy.
import type { Offering } from './offering.js';
import type { ResourceConfig } from './config.js';

/** Spot zones first (when spot), then on-demand zones if the resource allows the fallback. */
export function offeringsFor(r: ResourceConfig): Offering[] {
  const zones: (string | undefined)[] = r.zones && r.zones.length > 0 ? r.zones : [undefined];
  const markets: Offering['market'][] = r.spot
    ? r.onDemandFallback
      ? ['spot', 'on-demand']
      : ['spot']
    : ['on-demand'];
  const out: Offering[] = [];
  for (const market of markets)
    for (const zone of zones) out.push(zone === undefined ? { instanceType: r.instanceType, market } : { instanceType: r.instanceType, zone, market });
  return out;
}

export function sameOffering(a: Offering, b: Offering): boolean {
  return a.instanceType === b.instanceType && (a.zone ?? '') === (b.zone ?? '') && a.market === b.market;
}

export interface CapacityFailure {
  offering: Offering;
  at: number; // ms
}

/** True while the offering had a capacity error less than cooldownMs ago. */
export function coolingDown(o: Offering, failures: readonly CapacityFailure[], now: number, cooldownMs: number): boolean {
  for (const f of failures) if (now - f.at < cooldownMs && sameOffering(o, f.offering)) return true;
  return false;
}

/** When the offering's cool-down ends (ms), or undefined when it is not cooling down. */
export function coolingUntil(o: Offering, failures: readonly CapacityFailure[], now: number, cooldownMs: number): number | undefined {
  let until: number | undefined;
  for (const f of failures)
    if (now - f.at < cooldownMs && sameOffering(o, f.offering)) until = Math.max(until ?? 0, f.at + cooldownMs);
  return until;
}

/** "t3.micro in us-east-1a (spot)": type, zone when set, and always the market, so a fallback reads plainly. */
export function describeOffering(o: Offering): string {
  const where = o.zone ? ` in ${o.zone}` : '';
  return `${o.instanceType}${where} (${o.market})`;
}
