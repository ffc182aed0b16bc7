// The autoscaler app's configuration: what users write in app.yaml and send to the API.
// One zod schema is the single source: validation, TypeScript types and the exported JSON Schema.
// Every object is strict: an unknown key is refused (see ../config-keys.ts); provider.settings and a
// resource's launch are free-form here and checked by the provider's own strict schema.
import { z } from 'zod';
import { AppSourceSchema } from './source.js';
import { SimulationSchema } from './simulation-config.js';
import { PeriodBudgetKeys } from './budget.js';
import { WarmSchema } from './warm-config.js';

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'use lower-case letters, digits and dashes (at most 63)');

export const ResourceSchema = z.strictObject({
  name,
  instanceType: z.string().min(1).describe('Cloud instance or machine type, e.g. g5.xlarge'),
  spot: z.boolean().default(false).describe('Launch as spot / preemptible'),
  onDemandFallback: z
    .boolean()
    .default(true)
    .describe('When spot has no capacity in any zone, fall back to on-demand'),
  pricePerHour: z
    .number()
    .nonnegative()
    .optional()
    .describe('USD per hour, for the budgets and spend; omitted = looked up by the provider (aws, gcp)'),
  maxInstances: z.number().int().positive().describe('Most instances of this type at once'),
  zones: z
    .array(z.string().min(1))
    .optional()
    .describe('Zones (or AWS subnets) tried in order; omitted = provider default'),
  launch: z
    .record(z.string(), z.unknown())
    .default({})
    .describe('Provider-specific launch settings (AMI, disks, network...)'),
  warm: WarmSchema.optional().describe('Idle ready instances kept for tasks to come (omitted = off); see docs/configuration.md'),
});

export const AppConfigSchema = z
  .strictObject({
    name,
    provider: z.strictObject({
      kind: z.enum(['local', 'simulated', 'aws', 'gcp']),
      settings: z.record(z.string(), z.unknown()).default({}),
    }),
    source: AppSourceSchema,
    resources: z.array(ResourceSchema).min(1),
    queues: z
      .record(z.string().min(1), z.array(z.string().min(1)).min(1))
      .describe('queue name -> resource names, the first preferred'),
    budget: z
      .strictObject({
        maxInstances: z.number().int().positive().optional(),
        maxPerHour: z.number().positive().optional().describe('USD per hour cap over all instances'),
        ...PeriodBudgetKeys,
      })
      .default({}),
    timings: z
      .strictObject({
        idleTimeoutS: z.number().nonnegative().default(120),
        bootTimeoutS: z.number().positive().default(600),
        capacityCooldownS: z.number().nonnegative().default(300),
        unreachableShutdownS: z.number().int().nonnegative().default(1800)
          .describe('a machine whose idle agent cannot reach the control plane this long powers itself off (local: the worker exits); 0: never'),
      })
      .default({ idleTimeoutS: 120, bootTimeoutS: 600, capacityCooldownS: 300, unreachableShutdownS: 1800 }),
    execution: z
      .strictObject({
        image: z.string().optional(),
        startupScript: z.string().optional(),
        gitSecret: z.string().optional(),
        storageSecret: z.string().optional(),
        agentArgs: z.array(z.string()).default([]),
      })
      .default({ agentArgs: [] }),
    simulation: SimulationSchema.optional().describe('Only for `flotilla simulate` and the simulated provider'),
  })
  .superRefine((cfg, ctx) => {
    const names = new Set(cfg.resources.map((r) => r.name));
    if (names.size !== cfg.resources.length)
      ctx.addIssue({ code: 'custom', path: ['resources'], message: 'resource names must be unique' });
    for (const [queue, list] of Object.entries(cfg.queues))
      list.forEach((r, i) => {
        if (!names.has(r))
          ctx.addIssue({
            code: 'custom',
            path: ['queues', queue, i],
            message: `unknown resource "${r}"; define it under resources`,
          });
      });
  });

export type ResourceConfig = z.infer<typeof ResourceSchema>;
export type AppConfig = z.infer<typeof AppConfigSchema>;
export type AppConfigInput = z.input<typeof AppConfigSchema>;

export function appConfigJsonSchema(): unknown {
  return z.toJSONSchema(AppConfigSchema, { io: 'input' });
}
