// Where an app's queues live: Flotilla's own (the default), or a ClearML server's, whose agents the app's
// instances then run (src/clearml/source.ts reads the server; docs/clearml.md).
import { z } from 'zod';

export const AppSourceSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('flotilla') }),
    z.strictObject({
      kind: z.literal('clearml'),
      apiServer: z.url({ protocol: /^https?$/ }).describe("the ClearML server's API address, e.g. https://api.clear.ml"),
      credentialsSecret: z.string().min(1).describe('a secret of kind clearml: {accessKey, secretKey}'),
    }),
  ])
  .optional()
  .describe('where the queues are: Flotilla (when absent) or a ClearML server, whose queue names the queues map uses');

export type AppSource = NonNullable<z.infer<typeof AppSourceSchema>>;
export type ClearmlSourceConfig = Extract<AppSource, { kind: 'clearml' }>;
