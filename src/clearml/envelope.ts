// ClearML's answer shape: every call answers `{meta, data}`, errors too, with ClearML's result codes. The agent
// reads `meta.result_msg` to say what went wrong, so a refusal here says what to do in Flotilla's words.
import { randomUUID } from 'node:crypto';

/** A refusal in ClearML's terms: the HTTP status is also `result_code`; `subcode` as ClearML numbers them. */
export class ClearmlError extends Error {
  constructor(readonly code: number, readonly subcode: number, message: string) {
    super(message);
  }
}

/** The version this adapter answers as: the agent turns features on by it (2.13 containers, 2.14 hidden search). */
export const API_VERSION = '2.23';
export const SERVER_VERSION = '1.16.0';

export interface Endpoint { name: string; requested: string | null }

export function envelope(endpoint: Endpoint, data: unknown, code = 200, subcode = 0, msg = 'OK') {
  return {
    meta: {
      id: randomUUID().replace(/-/g, ''),
      trx: randomUUID().replace(/-/g, ''),
      endpoint: { name: endpoint.name, requested_version: endpoint.requested ?? API_VERSION, actual_version: API_VERSION },
      result_code: code,
      result_subcode: subcode,
      result_msg: msg,
      error_stack: null,
      error_data: {},
    },
    data,
  };
}

/** ClearML's own words for an endpoint it does not serve (HTTP 404, subcode 0). */
export function notFound(endpoint: Endpoint): ClearmlError {
  return new ClearmlError(404, 0, `Unable to find endpoint for name ${endpoint.name} and version ${endpoint.requested ?? API_VERSION}` +
    ' (Flotilla serves the part of the ClearML API that clearml-agent uses: see docs/clearml.md)');
}

/** `/v2.14/queues.get_next_task` or `/queues.get_next_task` (after the prefix). Null when it is neither. */
export function parseEndpoint(path: string): Endpoint | null {
  const m = /^\/(?:v(\d+(?:\.\d+)?)\/)?([a-z_]+\.[a-z_]+)\/?$/.exec(path);
  return m ? { name: m[2]!, requested: m[1] ?? null } : null;
}
