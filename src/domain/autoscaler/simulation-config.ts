// Optional `simulation:` section of an app config: read only by `flotilla simulate` and the
// `simulated` provider. The other providers ignore it.
import { z } from 'zod';
import { SpotModelSchema } from './spot-model.js';

export const BootTimeSchema = z
  .strictObject({
    distribution: z.enum(['fixed', 'uniform', 'lognormal']).default('fixed'),
    seconds: z.number().positive().default(120).describe('fixed: the boot time; lognormal: the median'),
    minSeconds: z.number().positive().optional().describe('uniform: lower bound'),
    maxSeconds: z.number().positive().optional().describe('uniform: upper bound'),
    sigma: z.number().nonnegative().default(0.25).describe('lognormal: sigma of the log'),
  })
  .refine((b) => b.distribution !== 'uniform' || (b.minSeconds !== undefined && b.maxSeconds !== undefined && b.minSeconds <= b.maxSeconds), {
    message: 'uniform boot time needs minSeconds <= maxSeconds',
    path: ['minSeconds'],
  })
  .describe('Time from launch until the worker registers');

export const FaultsSchema = z.strictObject({
  capacityErrorRate: z.number().min(0).max(1).default(0).describe('Chance that one launch fails with a capacity error'),
  spotInterruptionsPerHour: z.number().nonnegative().default(0).describe('Interruptions per spot instance-hour'),
  noCapacity: z
    .array(
      z.strictObject({
        instanceType: z.string().min(1),
        zone: z.string().optional(),
        market: z.enum(['spot', 'on-demand']).optional(),
      }),
    )
    .default([])
    .describe('Offerings that always answer with a capacity error'),
});

export const RouteRuleSchema = z
  .strictObject({
    queue: z.string().min(1),
    minGpus: z.number().int().nonnegative().default(0),
    maxGpus: z.number().int().nonnegative().optional().describe('omitted = no upper bound'),
  })
  .describe('A trace job asking for minGpus..maxGpus GPUs goes to this queue; the first matching rule wins');

export const SimulationSchema = z.strictObject({
  bootTime: BootTimeSchema.default({ distribution: 'fixed', seconds: 120, sigma: 0.25 }),
  route: z.array(RouteRuleSchema).default([]).describe('Routing of trace jobs to queues; jobs matching no rule are skipped'),
  faults: FaultsSchema.default({ capacityErrorRate: 0, spotInterruptionsPerHour: 0, noCapacity: [] }),
  spot: z
    .record(z.string().min(1), SpotModelSchema)
    .default({})
    .describe('resource name -> its spot market (price, interruptions, checkpoints); a spot resource not named here costs its on-demand price and is interrupted at faults.spotInterruptionsPerHour'),
});

export type BootTime = z.infer<typeof BootTimeSchema>;
export type Faults = z.infer<typeof FaultsSchema>;
export type RouteRule = z.infer<typeof RouteRuleSchema>;
export type SimulationConfig = z.infer<typeof SimulationSchema>;
