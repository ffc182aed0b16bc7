// The `warm:` setting of a resource (what warm.ts does with it is explained there).
import { z } from 'zod';

export const WarmSchema = z
  .strictObject({
    mode: z
      .enum(['off', 'fixed', 'auto'])
      .default('off')
      .describe('off: no idle instance is kept past the idle timeout; fixed: keep `size` ready; auto: size from the forecast'),
    size: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe('fixed: idle ready instances to keep; auto: the most to keep (omitted = no bound but the money)'),
    maxPerHour: z
      .number()
      .nonnegative()
      .optional()
      .describe('USD per hour this resource\'s idle warm instances may cost at most'),
    bootS: z
      .number()
      .positive()
      .optional()
      .describe('auto: the time a replacement takes to boot and register (omitted = the simulation\'s boot time, else 120 s)'),
    budgetShare: z
      .number()
      .min(0)
      .max(1)
      .default(0.05)
      .describe('auto: the warm instances of this resource cost at most this share of budget.maxPerHour'),
  })
  .refine((w) => w.mode !== 'fixed' || w.size !== undefined, { message: 'mode fixed needs size (how many to keep ready)', path: ['size'] })
  .describe('Warm capacity: idle ready instances kept for tasks to come; they count against every limit');

export type WarmConfig = z.infer<typeof WarmSchema>;
export const WARM_OFF: WarmConfig = { mode: 'off', budgetShare: 0.05 };
