// A background loop that runs in exactly one replica (the leader): the lease sweeper, the autoscaler, the
// Kubernetes glue. The server starts and stops them; the type lives here so their modules need nothing of the server's.
export interface Controller {
  name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}
