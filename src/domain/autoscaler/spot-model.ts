// The simulator's model of a spot market for one resource (the `simulation.spot` section): its price,
// how often AWS reclaims it, and how much work a task loses when it does. Read only by `flotilla simulate`.
import { z } from 'zod';

/**
 * AWS Spot Instance Advisor "frequency of interruption" bands: the share of instances of a type that AWS
 * reclaimed over the trailing month. Each band is read at its midpoint (the open top band at 25 %) as the
 * chance that an instance running a whole month (730 h) is interrupted: rate = −ln(1 − p) / 730 per hour,
 * the rate of a Poisson process with that chance over a month.
 */
export const INTERRUPTION_BANDS = { '<5%': 0.025, '5-10%': 0.075, '10-15%': 0.125, '15-20%': 0.175, '>20%': 0.25 } as const;
export type InterruptionBand = keyof typeof INTERRUPTION_BANDS;
const MONTH_H = 730;

export function bandRatePerHour(band: InterruptionBand): number {
  return -Math.log(1 - INTERRUPTION_BANDS[band]) / MONTH_H;
}

export const SpotModelSchema = z
  .strictObject({
    priceFraction: z
      .number()
      .gt(0)
      .max(1)
      .default(0.35)
      .describe('Spot price as a fraction of the on-demand pricePerHour (the Advisor lists savings of 60-90 %)'),
    interruptionFrequency: z
      .enum(Object.keys(INTERRUPTION_BANDS) as [InterruptionBand, ...InterruptionBand[]])
      .default('<5%')
      .describe("The Spot Instance Advisor's frequency-of-interruption band of the type"),
    interruptionsPerHour: z
      .number()
      .nonnegative()
      .optional()
      .describe('Interruptions per spot instance-hour; overrides the band'),
    checkpointIntervalS: z
      .number()
      .nonnegative()
      .default(0)
      .describe('Tasks save their work this often; an interruption loses what was done since the last save (0 = all of it)'),
  })
  .describe("A resource's spot market in the replay");

export type SpotModel = z.infer<typeof SpotModelSchema>;

export function spotRatePerHour(m: SpotModel): number {
  return m.interruptionsPerHour ?? bandRatePerHour(m.interruptionFrequency);
}
