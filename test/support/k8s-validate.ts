// Validates Kubernetes objects offline, two ways: the JSON Schemas of the `kubernetes-models` package (types,
// required fields, enums) and a round trip through @kubernetes/client-node's typed models, which drops any field the
// API does not define, so a misspelt or misplaced field (the schemas let unknown fields pass) is caught too.
import { dumpYaml, loadYaml } from '@kubernetes/client-node';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Namespace, PersistentVolumeClaim, Pod, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { parse, stringify } from 'yaml';

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Pod': Pod,
  'v1/Secret': Secret,
  'apps/v1/Deployment': Deployment,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

/** Throws an error naming the object and the offending field. */
export function validateObject(obj: any): void {
  const id = `${obj?.kind} ${obj?.metadata?.name}`;
  const Model = MODELS[`${obj?.apiVersion}/${obj?.kind}`];
  if (!Model) throw new Error(`${id}: no schema for ${obj?.apiVersion} ${obj?.kind}; add it to test/support/k8s-validate.ts`);
  try {
    new Model(obj).validate();
  } catch (e) {
    throw new Error(`${id}: ${(e as Error).message}`);
  }
  const unknown = droppedFields(obj, parse(dumpYaml(loadYaml(stringify(obj)))));
  if (unknown.length) throw new Error(`${id}: fields unknown to the Kubernetes API: ${unknown.join(', ')}`);
}

function droppedFields(a: any, b: any, path = ''): string[] {
  if (a === null || typeof a !== 'object') return [];
  if (b === undefined || b === null) return [path || '(root)'];
  return Object.keys(a).flatMap((k) =>
    b[k] === undefined && a[k] !== undefined ? [`${path}${path ? '.' : ''}${k}`] : droppedFields(a[k], b[k], `${path}${path ? '.' : ''}${k}`),
  );
}
