// What went wrong, in the domain's words. The server maps each class to an HTTP status (server/app.ts);
// nothing below the server knows about HTTP.
export class NotFoundError extends Error {}
export class ConflictError extends Error {}
export class ForbiddenError extends Error {}
/** The thing asked for existed and is gone for good (a stopped worker). */
export class GoneError extends Error {}
