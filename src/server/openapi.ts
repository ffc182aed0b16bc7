// The OpenAPI document, generated from the same zod schemas that validate requests.
import { z } from 'zod';
import type { AnyRoute } from './route.js';

const toJson = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, any>;

function parameters(schema: z.ZodType | undefined, where: 'query' | 'path') {
  if (!schema) return [];
  const js = toJson(schema);
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({
    name, in: where, required: where === 'path' || (js.required ?? []).includes(name), schema: s,
  }));
}

export function openApiDocument(routes: AnyRoute[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:(\w+)/g, '{$1}');
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = {
      summary: r.summary,
      description: r.public ? 'No token needed' : `Roles: admin${r.roles.length ? ', ' + r.roles.join(', ') : ''}`,
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: toJson(r.body) } } } } : {}),
      responses: {
        '200': { description: 'OK' },
        '400': { description: 'Invalid input: the body names each bad field' },
        '401': { description: 'Missing or invalid token' },
        '403': { description: 'The token\'s role may not do this' },
      },
      // A console session cookie works wherever a bearer token does (a change also needs X-Flotilla-Console: 1).
      security: r.public ? [] : [{ bearer: [] }, { session: [] }],
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Flotilla', version },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, session: { type: 'apiKey', in: 'cookie', name: 'flotilla_session' } } },
    paths,
  };
}
