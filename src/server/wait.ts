// Long polls: wait for a store event, a deadline or the client going away, whichever comes first.
// Subscribe before checking the store, so an event between the check and the wait is not missed.
import type { IncomingMessage } from 'node:http';
import type { Events, StoreEvent } from '../store/events.js';

export function waitForEvent(
  events: Events,
  match: (e: StoreEvent) => boolean,
  timeoutMs: number,
  req?: IncomingMessage,
  /** The server is closing: answer now rather than hold its shutdown until the deadline. */
  closing?: AbortSignal,
) {
  let cancel = () => {};
  const promise = new Promise<boolean>((resolve) => {
    const done = (fired: boolean) => {
      off();
      clearTimeout(timer);
      req?.socket?.off('close', onClose);
      closing?.removeEventListener('abort', onClose);
      resolve(fired);
    };
    const off = events.on((e) => match(e) && done(true));
    const timer = setTimeout(() => done(false), timeoutMs);
    const onClose = () => done(false);
    req?.socket?.on('close', onClose);
    closing?.addEventListener('abort', onClose);
    if (closing?.aborted) onClose();
    cancel = () => done(false);
  });
  return { promise, cancel: () => cancel() };
}
