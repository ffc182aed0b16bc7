// Errors the API turns into HTTP statuses.
export class NotFoundError extends Error {
  readonly statusCode = 404;
}
export class ConflictError extends Error {
  readonly statusCode = 409;
}
export class ForbiddenError extends Error {
  readonly statusCode = 403;
}
export class GoneError extends Error {
  readonly statusCode = 410;
}
