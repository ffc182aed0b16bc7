// Where one launch is attempted. The policy picks offerings and the capacity cache remembers failures of
// them; providers launch on them. Domain type, so the policy needs nothing from the providers.

export type Market = 'spot' | 'on-demand';

/** Where one launch is attempted: the policy picks it, the capacity cache remembers failures of it. */
export interface Offering {
  instanceType: string;
  zone?: string; // AZ, subnet or GCE zone; undefined = provider default
  market: Market;
}
