// Reports fields the Kubernetes API does not define, in objects read as JSON from stdin:
//   [{"kind": "Deployment", "object": {...}}, ...]  →  stdout: ["Deployment .spec.template.spec.foo", ...]
//
// kubernetes-models validates types and required fields but lets unknown keys through, and a misspelt key
// (readOnlyRootFileSystem) is silently dropped by the API server. The generated models of
// @kubernetes/client-node carry every field of every type (attributeTypeMap, from the Kubernetes
// OpenAPI document), which is what this walks. It runs as a separate Node process because that package is
// an ES module, which jest's CommonJS module system does not load.
import * as k8s from '@kubernetes/client-node';

const CLASSES = {
  ClusterRole: 'V1ClusterRole',
  ClusterRoleBinding: 'V1ClusterRoleBinding',
  ConfigMap: 'V1ConfigMap',
  Deployment: 'V1Deployment',
  NetworkPolicy: 'V1NetworkPolicy',
  PersistentVolumeClaim: 'V1PersistentVolumeClaim',
  PodDisruptionBudget: 'V1PodDisruptionBudget',
  Role: 'V1Role',
  RoleBinding: 'V1RoleBinding',
  Secret: 'V1Secret',
  Service: 'V1Service',
  ServiceAccount: 'V1ServiceAccount',
};

function walk(value, type, path, problems) {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, array[1], `${path}[${i}]`, problems));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, map[1], `${path}.${k}`, problems);
    return;
  }
  const cls = k8s[type];
  if (typeof cls !== 'function' || typeof cls.getAttributeTypeMap !== 'function') return; // a leaf: string, number, IntOrString…
  if (typeof value !== 'object' || Array.isArray(value)) return; // kubernetes-models reports wrong types
  const fields = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    if (!fields.has(k)) problems.push(`${path}.${k}`);
    else walk(v, fields.get(k), `${path}.${k}`, problems);
  }
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  const problems = [];
  for (const {kind, object} of JSON.parse(input)) {
    const cls = CLASSES[kind];
    if (cls === undefined) {
      problems.push(`${kind}: no model to check it against`);
      continue;
    }
    const found = [];
    walk(object, cls, '', found);
    for (const f of found) problems.push(`${kind} ${f}`);
  }
  process.stdout.write(JSON.stringify(problems));
});
