// The store's errors are the domain's; kept here so existing imports resolve while callers move to domain/errors.
export { NotFoundError, ConflictError, ForbiddenError, GoneError } from '../domain/errors.js';
