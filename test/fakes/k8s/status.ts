// metav1.Status bodies, the way the API server writes its errors, so the real client raises ApiException(code, body).
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  body(): object {
    return status('Failure', this.code, this.reason, this.message, this.details);
  }
}

export function status(
  state: 'Success' | 'Failure',
  code: number,
  reason: string | undefined,
  message: string | undefined,
  details?: Record<string, unknown>,
): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: state, message, reason, details, code };
}

export const notFound = (resource: string, name: string) =>
  new ApiError(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource });

export const alreadyExists = (resource: string, name: string) =>
  new ApiError(409, 'AlreadyExists', `${resource} "${name}" already exists`, { name, kind: resource });

export const invalid = (kind: string, name: string, causes: { field: string; message: string }[]) =>
  new ApiError(
    422,
    'Invalid',
    `${kind} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
    { name, kind, causes: causes.map((c) => ({ reason: 'FieldValueInvalid', ...c })) },
  );

export const badRequest = (message: string) => new ApiError(400, 'BadRequest', message);

export const expired = (requested: string, current: number) =>
  new ApiError(410, 'Expired', `too old resource version: ${requested} (${current})`);
