// What changes between two app documents, leaf by leaf: what the console shows before apply.
export interface Change { path: (string | number)[]; from: unknown; to: unknown }

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function diffDocs(from: unknown, to: unknown, path: (string | number)[] = [], out: Change[] = []): Change[] {
  if (Array.isArray(from) && Array.isArray(to)) {
    for (let i = 0; i < Math.max(from.length, to.length); i++) diffDocs(from[i], to[i], [...path, i], out);
  } else if (isObject(from) && isObject(to)) {
    for (const k of new Set([...Object.keys(from), ...Object.keys(to)])) diffDocs(from[k], to[k], [...path, k], out);
  } else if (JSON.stringify(from) !== JSON.stringify(to)) {
    out.push({ path, from: from ?? null, to: to ?? null });
  }
  return out;
}
