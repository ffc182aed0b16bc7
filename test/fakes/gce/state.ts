// The state of the fake Compute Engine: instances, zone operations, request-id dedup, injected faults.
// It keeps the real service's semantics that the provider relies on (see server.ts for the routes).

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export class GceHttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
  /** Google's error body: {error: {code, message, errors: [{message, domain, reason}]}}. */
  body(): Json {
    return { error: { code: this.status, message: this.message, errors: [{ message: this.message, domain: 'global', reason: this.reason }] } };
  }
}

/** A fault for the next matching call: an HTTP error, or (insert only) a DONE operation carrying an error. */
export interface Fault {
  method: 'insert' | 'delete' | 'get' | 'list' | 'aggregated';
  zone?: string;
  match?: (body: Json) => boolean;
  http?: { status: number; reason: string; message?: string };
  operationError?: { code: string; message?: string };
  times?: number;
}

const NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const BASE = 'https://www.googleapis.com/compute/v1';

export class GceState {
  readonly instances = new Map<string, Json>(); // key: project/zone/name
  readonly operations = new Map<string, Json>(); // key: operation name
  private readonly byRequestId = new Map<string, string>();
  private readonly faults: Fault[] = [];
  private seq = 0;
  /** Polls of operations/wait that still answer RUNNING before an operation is DONE. */
  pendingPolls = 0;
  /** Largest page a list answers (GCE: 500); tests lower it to exercise nextPageToken. */
  maxPageSize = 500;
  readonly calls: { method: string; zone?: string; body?: Json; requestId?: string }[] = [];

  /** GCE remembers request ids for a limited time; this is that time passing. */
  forgetRequestIds(): void {
    this.byRequestId.clear();
  }

  inject(fault: Fault): void {
    this.faults.push({ times: 1, ...fault });
  }

  /** Takes the first fault that matches this call, counting down its uses. */
  takeFault(method: Fault['method'], zone?: string, body: Json = {}): Fault | undefined {
    const i = this.faults.findIndex((f) => f.method === method && (!f.zone || f.zone === zone) && (!f.match || f.match(body)));
    if (i < 0) return undefined;
    const fault = this.faults[i];
    if (--fault.times! <= 0) this.faults.splice(i, 1);
    return fault;
  }

  private newOperation(project: string, zone: string, type: string, target: string, error?: Fault['operationError']): Json {
    const name = `operation-${Date.now()}-${++this.seq}`;
    const op: Json = {
      kind: 'compute#operation',
      id: String(1000 + this.seq),
      name,
      zone: `${BASE}/projects/${project}/zones/${zone}`,
      operationType: type,
      targetLink: `${BASE}/projects/${project}/zones/${zone}/instances/${target}`,
      status: this.pendingPolls > 0 ? 'RUNNING' : 'DONE',
      progress: this.pendingPolls > 0 ? 0 : 100,
      insertTime: new Date().toISOString(),
      selfLink: `${BASE}/projects/${project}/zones/${zone}/operations/${name}`,
      _polls: this.pendingPolls,
    };
    if (error) {
      op.error = { errors: [{ code: error.code, message: error.message ?? `${error.code} in ${zone}` }] };
      op.httpErrorStatusCode = 503;
    }
    this.operations.set(name, op);
    return op;
  }

  insert(project: string, zone: string, body: Json, requestId?: string): Json {
    this.calls.push({ method: 'insert', zone, body, requestId });
    const again = requestId && this.byRequestId.get(requestId);
    if (again) return this.view(this.operations.get(again)!);
    const fault = this.takeFault('insert', zone, body);
    if (fault?.http) throw new GceHttpError(fault.http.status, fault.http.reason, fault.http.message ?? fault.http.reason);
    const name = String(body.name ?? '');
    if (!NAME.test(name)) throw new GceHttpError(400, 'invalid', `Invalid value for field 'resource.name': '${name}'.`);
    if (!body.machineType) throw new GceHttpError(400, 'required', "Required field 'resource.machineType' not specified");
    if (!Array.isArray(body.disks) || body.disks.length === 0)
      throw new GceHttpError(400, 'required', "Required field 'resource.disks' not specified");
    const key = `${project}/${zone}/${name}`;
    if (this.instances.has(key))
      throw new GceHttpError(409, 'alreadyExists', `The resource 'projects/${project}/zones/${zone}/instances/${name}' already exists`);
    const op = this.newOperation(project, zone, 'insert', name, fault?.operationError);
    if (requestId) this.byRequestId.set(requestId, op.name);
    if (!fault?.operationError) this.instances.set(key, this.created(project, zone, body));
    return this.view(op);
  }

  private created(project: string, zone: string, body: Json): Json {
    return {
      ...body,
      kind: 'compute#instance',
      id: String(5_000_000_000 + ++this.seq),
      zone: `${BASE}/projects/${project}/zones/${zone}`,
      selfLink: `${BASE}/projects/${project}/zones/${zone}/instances/${body.name}`,
      machineType: String(body.machineType).startsWith('https:') ? body.machineType : `${BASE}/projects/${project}/${body.machineType}`,
      status: 'PROVISIONING',
      creationTimestamp: new Date().toISOString(),
    };
  }

  get(project: string, zone: string, name: string): Json {
    this.calls.push({ method: 'get', zone });
    const fault = this.takeFault('get', zone);
    if (fault?.http) throw new GceHttpError(fault.http.status, fault.http.reason, fault.http.message ?? fault.http.reason);
    const inst = this.instances.get(`${project}/${zone}/${name}`);
    if (!inst) throw new GceHttpError(404, 'notFound', `The resource 'projects/${project}/zones/${zone}/instances/${name}' was not found`);
    return this.advance(inst);
  }

  /** Like GCE a moment later: a provisioning machine is running on the next read. */
  private advance(inst: Json): Json {
    if (inst.status === 'PROVISIONING' || inst.status === 'STAGING') inst.status = 'RUNNING';
    return inst;
  }

  delete(project: string, zone: string, name: string, requestId?: string): Json {
    this.calls.push({ method: 'delete', zone, requestId });
    const again = requestId && this.byRequestId.get(requestId);
    if (again) return this.view(this.operations.get(again)!);
    const fault = this.takeFault('delete', zone);
    if (fault?.http) throw new GceHttpError(fault.http.status, fault.http.reason, fault.http.message ?? fault.http.reason);
    const key = `${project}/${zone}/${name}`;
    if (!this.instances.has(key))
      throw new GceHttpError(404, 'notFound', `The resource 'projects/${project}/zones/${zone}/instances/${name}' was not found`);
    this.instances.delete(key);
    const op = this.newOperation(project, zone, 'delete', name);
    if (requestId) this.byRequestId.set(requestId, op.name);
    return this.view(op);
  }

  /** Instances of the project (one zone, or all), filtered, sorted by name as GCE does. */
  select(project: string, zone: string | undefined, filter: string | undefined): Json[] {
    const match = parseFilter(filter);
    return [...this.instances.entries()]
      .filter(([key]) => key.startsWith(`${project}/${zone ? `${zone}/` : ''}`))
      .map(([, inst]) => this.advance(inst))
      .filter(match)
      .sort((a, b) => String(a.name).localeCompare(String(b.name)));
  }

  /** operations/wait: one poll; RUNNING while polls remain, then DONE. Like GCE, takes the name or the numeric id. */
  waitOperation(project: string, zone: string, name: string): Json {
    const op = this.operations.get(name) ?? [...this.operations.values()].find((o) => o.id === name);
    if (!op || !String(op.zone).endsWith(`/projects/${project}/zones/${zone}`))
      throw new GceHttpError(404, 'notFound', `The resource 'projects/${project}/zones/${zone}/operations/${name}' was not found`);
    if (op._polls > 0 && --op._polls === 0) {
      op.status = 'DONE';
      op.progress = 100;
    }
    return this.view(op);
  }

  private view(op: Json): Json {
    const { _polls, ...rest } = op; // eslint-disable-line @typescript-eslint/no-unused-vars
    return rest;
  }
}

/** The subset of GCE's filter language the provider uses: `labels.KEY = "VALUE"` terms, ANDed. */
export function parseFilter(filter: string | undefined): (inst: Json) => boolean {
  if (!filter || !filter.trim()) return () => true;
  const terms = [...filter.matchAll(/\(?\s*labels\.([a-z][-_a-z0-9]*)\s*=\s*"?([-_a-z0-9]*)"?\s*\)?/g)];
  const rest = filter.replace(/\(?\s*labels\.([a-z][-_a-z0-9]*)\s*=\s*"?([-_a-z0-9]*)"?\s*\)?/g, '').replace(/\bAND\b/g, '');
  if (terms.length === 0 || rest.trim())
    throw new GceHttpError(400, 'invalid', `Invalid value for field 'filter': '${filter}'. The fake supports labels.KEY = "VALUE" terms.`);
  return (inst) => terms.every(([, key, value]) => inst.labels?.[key] === value);
}
