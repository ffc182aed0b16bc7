// provider.settings and a resource's launch are free-form in the app schema: each provider kind checks them with its
// own strict schema, which the API serves beside the app's (`providers` of GET /api/v1/autoscaler-schema). Here the
// chosen kind's schemas take the place of the free-form maps, so the form shows that provider's real fields.
import type { JsonSchema } from '../types';
import type { Json } from './SchemaForm';

export type AppSchema = JsonSchema & { providers?: Record<string, { settings: JsonSchema; launch?: JsonSchema }> };
type Obj = { [k: string]: Json };

const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const kindOf = (doc: Obj) => (isObj(doc.provider) && typeof doc.provider.kind === 'string' ? doc.provider.kind : undefined);

/** The app schema with the chosen kind's settings and launch fields in place of the free-form maps. */
export function withProvider(schema: AppSchema, doc: Obj): JsonSchema {
  const kind = kindOf(doc);
  const own = kind ? schema.providers?.[kind] : undefined;
  const provider = schema.properties?.provider;
  const resource = schema.properties?.resources?.items;
  if (!own || !provider?.properties?.settings || !resource?.properties?.launch) return schema;
  // The generic map keeps its default and description (a section that is always open, saying what it is).
  const over = (free: JsonSchema, specific: JsonSchema): JsonSchema => ({ ...specific, default: free.default, description: free.description });
  const settings = over(provider.properties.settings, { ...own.settings, description: undefined });
  // A kind without a launch schema (local, simulated) reads no launch block: no section for it.
  const { launch: free, ...others } = resource.properties;
  const items = { ...resource, properties: own.launch ? { ...others, launch: over(free, own.launch) } : others };
  return {
    ...schema,
    properties: {
      ...schema.properties,
      provider: { ...provider, properties: { ...provider.properties, settings: { ...settings, description: `Settings of the ${kind} provider` } } },
      resources: { ...schema.properties!.resources, items },
    },
  };
}

/** When the kind changes, keys the new provider does not know are dropped (its strict schema would only refuse them). */
export function switchProvider(schema: AppSchema, prev: Obj, next: Obj): Obj {
  const kind = kindOf(next);
  if (kind === kindOf(prev) || !kind) return next;
  const own = schema.providers?.[kind];
  if (!own) return next;
  const keep = (v: Json | undefined, s?: JsonSchema): Obj => {
    const known = new Set(Object.keys(s?.properties ?? {}));
    return isObj(v) ? Object.fromEntries(Object.entries(v).filter(([k]) => known.has(k))) : {};
  };
  const provider = isObj(next.provider) ? next.provider : {};
  const resources = Array.isArray(next.resources) ? next.resources : [];
  return {
    ...next,
    provider: { ...provider, settings: keep(provider.settings, own.settings) },
    // A kind without a launch schema (local, simulated) has no launch section: the old block goes.
    resources: resources.map((r) => {
      if (!isObj(r)) return r;
      const { launch, ...rest } = r;
      return own.launch ? { ...rest, launch: keep(launch, own.launch) } : rest;
    }),
  };
}
