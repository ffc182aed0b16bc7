// What went wrong, in the domain's words. The server maps each class to an HTTP status (server/app.ts);
// nothing below the server knows about HTTP.
export class NotFoundError extends Error {}
export class ConflictError extends Error {}
export class ForbiddenError extends Error {}
/** The thing asked for existed and is gone for good (a stopped worker). */
export class GoneError extends Error {}
/** A state change the lifecycle forbids, or one that lost a race to a concurrent change. */
export class InvalidTransitionError extends ConflictError {
  constructor(readonly subject: string, readonly from: string, readonly to: string, detail?: string) {
    super(`${subject} cannot go from ${from} to ${to}${detail ? ` (${detail})` : ''}`);
    this.name = 'InvalidTransitionError';
  }
}
