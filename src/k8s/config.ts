// The Kubernetes glue's configuration (glue.yaml): per queue a pod template, a namespace and a pod limit, plus an
// overall limit. One zod schema gives validation with errors that name the field, the types and the JSON Schema.
// Unknown keys are refused (with the nearest known key), except inside pod templates and affinity, which are
// Kubernetes objects passed through as written.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseConfig } from '../domain/config-keys.js';
import { queueName } from '../domain/task.js';

const k8sName = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'use lower-case letters, digits and "-", starting and ending with a letter or digit');
const quantity = z.union([z.string().regex(/^[0-9.]+([a-zA-Z]{1,2})?$/, 'a quantity such as "500m", "2" or "4Gi"'), z.number().nonnegative()]);
const stringMap = z.record(z.string(), z.string());

/** A PodTemplateSpec: `metadata` and a `spec` in the Kubernetes shape; the rest of the spec passes through as written. */
export const PodTemplateSchema = z.looseObject({
  metadata: z.looseObject({ labels: stringMap.optional(), annotations: stringMap.optional() }).optional(),
  spec: z.looseObject({
    containers: z.array(z.looseObject({ name: z.string().min(1) })).optional(),
  }),
});

export const TolerationSchema = z.strictObject({
  key: z.string().optional(),
  operator: z.enum(['Exists', 'Equal']).optional(),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
  tolerationSeconds: z.number().int().optional(),
});

/** What a queue may set on top of its template; these win over the template's own values. */
export const PodOverridesSchema = z.strictObject({
  gpu: z.number().int().nonnegative().optional().describe('nvidia.com/gpu per task pod'),
  resources: z
    .strictObject({ requests: z.record(z.string(), quantity).optional(), limits: z.record(z.string(), quantity).optional() })
    .optional()
    .describe('Merged into the task container resources'),
  nodeSelector: stringMap.optional(),
  tolerations: z.array(TolerationSchema).optional().describe('Added to the template tolerations'),
  affinity: z.record(z.string(), z.unknown()).optional().describe('Replaces the template affinity'),
  priorityClassName: z.string().min(1).optional(),
});

export const GlueQueueSchema = PodOverridesSchema.extend({
  name: queueName,
  namespace: k8sName.optional().describe('Namespace for this queue pods; default: the top-level namespace'),
  maxPods: z.number().int().positive().describe('Most pods of this queue at once; further tasks wait in order'),
  podTemplate: z
    .union([z.string().min(1).describe('Path to a YAML file, relative to the config file'), PodTemplateSchema])
    .default({ spec: {} })
    .describe('PodTemplateSpec inline, or a YAML file path'),
});

export const GlueConfigSchema = z
  .strictObject({
    server: z.url().describe("The control plane URL as the pods' agents reach it, e.g. http://flotilla:8080"),
    namespace: k8sName.optional().describe("Default namespace for task pods; default: the glue's own namespace (in cluster) or the kubeconfig context's"),
    defaultImage: z.string().min(1).describe('Image for tasks that name none (it must have `flotilla` on PATH)'),
    maxPods: z.number().int().positive().describe('Most task pods at once over all queues'),
    keepFinishedPodsS: z.number().int().nonnegative().default(3600).describe('Keep ended pods this long for diagnosis'),
    imagePullFailAfterS: z.number().int().positive().default(300).describe('Fail a task whose image cannot be pulled for this long'),
    agentArgs: z.array(z.string()).default([]).describe('Extra arguments for the agent in each pod'),
    queues: z.array(GlueQueueSchema).min(1).describe('Queues in priority order: the first is served first'),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.queues.forEach((q, i) => {
      if (seen.has(q.name))
        ctx.addIssue({ code: 'custom', path: ['queues', i, 'name'], message: `queue "${q.name}" is listed twice` });
      seen.add(q.name);
    });
  });

export type PodTemplate = z.infer<typeof PodTemplateSchema>;
export type PodOverrides = z.infer<typeof PodOverridesSchema>;
export type GlueConfig = z.infer<typeof GlueConfigSchema>;
export type GlueConfigInput = z.input<typeof GlueConfigSchema>;
export type GlueQueue = GlueConfig['queues'][number];
/** A queue whose template file, if any, has been read. */
export type ResolvedQueue = Omit<GlueQueue, 'podTemplate'> & { podTemplate: PodTemplate };
export type ResolvedGlueConfig = Omit<GlueConfig, 'queues'> & { queues: ResolvedQueue[] };

export const parseGlueConfig = (raw: unknown): GlueConfig => parseConfig(GlueConfigSchema, raw ?? {}, 'kubernetes glue config');

/** Reads each queue's template file (relative to `baseDir`) and validates it, naming the queue and file on error. */
export async function resolveTemplates(cfg: GlueConfig, baseDir: string): Promise<ResolvedGlueConfig> {
  const queues = await Promise.all(
    cfg.queues.map(async (q, i) => {
      if (typeof q.podTemplate !== 'string') return { ...q, podTemplate: q.podTemplate };
      const file = resolve(baseDir, q.podTemplate);
      const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
        throw new Error(`kubernetes glue config: queues.${i}.podTemplate: cannot read ${file} (${e.code}); fix the path`);
      });
      const tpl = parseConfig(PodTemplateSchema, parseYaml(text) ?? {}, `kubernetes glue config: queues.${i}.podTemplate (${file})`);
      return { ...q, podTemplate: tpl };
    }),
  );
  return { ...cfg, queues };
}

/** Loads glue.yaml (YAML or JSON), validates it and reads the template files it names. */
export async function loadGlueConfigFile(path: string): Promise<ResolvedGlueConfig> {
  const text = await readFile(path, 'utf8');
  return resolveTemplates(parseGlueConfig(parseYaml(text)), dirname(resolve(path)));
}

export const glueConfigJsonSchema = () => z.toJSONSchema(GlueConfigSchema, { io: 'input' });
