// Equality-based label selectors ("app=mattermost,tier!=canary"), the form a pod selector is configured in.
// Parsed here so that a malformed selector is refused when the source is built, not by the API server later.

export interface Requirement {
  key: string;
  op: '=' | '!=' | 'exists' | '!exists';
  value: string;
}

// DNS-1123 subdomain prefix and a name segment, as Kubernetes allows for label keys.
const KEY = /^(?:[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

export function parseSelector(text: string): Requirement[] {
  const out: Requirement[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const m = /^(!?)([^=!\s]+)\s*(?:(==|=|!=)\s*(\S*))?$/.exec(part);
    if (m === null) throw new Error(`"${part}" is not a label requirement (key=value, key!=value, key or !key)`);
    const [, not, key, op, value = ''] = m;
    if (!KEY.test(key)) throw new Error(`"${key}" is not a valid label key`);
    if (op !== undefined && (not !== '' || !VALUE.test(value))) throw new Error(`"${part}" is not a valid label requirement`);
    out.push(op === undefined ? {key, op: not === '' ? 'exists' : '!exists', value: ''} : {key, op: op === '!=' ? '!=' : '=', value});
  }
  if (out.length === 0) throw new Error('the label selector is empty');
  return out;
}

export function formatSelector(reqs: readonly Requirement[]): string {
  return reqs.map((r) => (r.op === 'exists' ? r.key : r.op === '!exists' ? `!${r.key}` : `${r.key}${r.op}${r.value}`)).join(',');
}

export function matchesSelector(reqs: readonly Requirement[], labels: Readonly<Record<string, string>> | null | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case '=':
        return has && l[r.key] === r.value;
      case '!=':
        return !has || l[r.key] !== r.value;
    }
  });
}

/** The labels a selector of only key=value requirements pins down (what a Sidecar's workloadSelector is matched against). */
export function impliedLabels(reqs: readonly Requirement[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of reqs) if (r.op === '=') out[r.key] = r.value;
  return out;
}
