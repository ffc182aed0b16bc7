// Who may register which worker (issue 13, defect 2). An agent token carries a binding, set when it is minted:
//
//   token                              scope (worker id)   app     resource   queues
//   an instance's (local or cloud)     the instance's id   its app its resource those the app mapped to it at launch
//   a k8s pod's                        task:ID             none    none       the task's queue
//   hand-made (`token create`)         none                none, unless an admin grants one (`--app NAME`): then
//                                                          that app, any of its resources, the queues it maps to them
//
// A registration outside the binding is refused (403) with the field that is out of scope. An admin token is
// not bound. Pure: the server looks up the app's config and the token, and throws what this returns.

/** The binding of the calling token (a subset of the store's TokenInfo). */
export interface AgentBinding {
  role: string;
  scope: string | null;
  app: string | null;
  resource: string | null;
  queues: string[] | null;
}

/** What a worker registers as. */
export interface RegistrationClaim {
  id: string;
  queues: string[];
  app?: string | null;
  resource?: string | null;
  instanceId?: string | null;
}

/** The parts of an app's config the check reads (AppConfig fits). */
export interface AppShape {
  name: string;
  resources: { name: string }[];
  queues: Record<string, string[]>;
}

/** True when the token's binding limits which queues its worker serves (so its dequeues are limited too). */
export const isBound = (t: AgentBinding) => t.role !== 'admin' && (t.app !== null || t.queues !== null);

/**
 * Why `reg` is outside what token `t` may register, or null when it is inside. `app`: the config of the app
 * the registration names (null when that app does not exist); only read when the token is bound to an app.
 */
export function outOfScope(t: AgentBinding, reg: RegistrationClaim, app: AppShape | null): string | null {
  if (t.role === 'admin') return null;
  const instanceScope = t.scope !== null && !t.scope.startsWith('task:') ? t.scope : null;
  if (instanceScope !== null && reg.id !== instanceScope)
    return `worker id "${reg.id}" is out of this token's scope: it may only register worker "${instanceScope}"`;
  if (reg.instanceId && reg.instanceId !== instanceScope)
    return instanceScope !== null
      ? `instanceId "${reg.instanceId}" is out of this token's scope: it belongs to instance "${instanceScope}"`
      : `instanceId "${reg.instanceId}" is out of this token's scope: only the agent token of that instance may claim it`;

  if (t.app === null) {
    if (reg.app) return `app "${reg.app}" is out of this token's scope: it is bound to no app ` +
      '(an admin can grant one: flotilla token create --role agent --app NAME)';
    if (reg.resource) return `resource "${reg.resource}" is out of this token's scope: it is bound to no app`;
  } else {
    if (reg.app && reg.app !== t.app) return `app "${reg.app}" is out of this token's scope: it is bound to app "${t.app}"`;
    if (reg.resource && t.resource !== null && reg.resource !== t.resource)
      return `resource "${reg.resource}" is out of this token's scope: it is bound to resource "${t.resource}" of app "${t.app}"`;
  }

  if (t.queues !== null) {
    const outside = reg.queues.filter((q) => !t.queues!.includes(q));
    if (outside.length) return `${queueList(outside)} out of this token's scope: it may serve ${t.queues.map((q) => `"${q}"`).join(', ') || 'no queue'}`;
    return null;
  }
  if (t.app === null) return null; // a hand-made token without an app: any queue, no app's secrets
  if (!app) return `app "${t.app}" of this token does not exist`;
  const resource = reg.resource ?? t.resource;
  if (resource !== null && !app.resources.some((r) => r.name === resource))
    return `resource "${resource}" is out of this token's scope: app "${app.name}" has no such resource`;
  const mapped = new Set(Object.entries(app.queues)
    .filter(([, list]) => resource === null ? list.length > 0 : list.includes(resource)).map(([q]) => q));
  const outside = reg.queues.filter((q) => !mapped.has(q));
  if (outside.length) return `${queueList(outside)} out of this token's scope: app "${app.name}" does not map ${outside.length > 1 ? 'them' : 'it'} to ` +
    (resource === null ? 'any resource' : `resource "${resource}"`);
  return null;
}

const queueList = (qs: string[]) => `queue${qs.length > 1 ? 's' : ''} ${qs.map((q) => `"${q}"`).join(', ')} ${qs.length > 1 ? 'are' : 'is'}`;
