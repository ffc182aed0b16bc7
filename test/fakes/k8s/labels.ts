// Label selectors (the `labelSelector` query string) and node selector terms, as the API server and scheduler read them.
type Req = { key: string; op: 'in' | 'notin' | 'exists' | '!exists'; values: string[] };

export function parseSelector(text: string | undefined | null): Req[] {
  if (!text) return [];
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => parseRequirement(p.trim()));
}

function parseRequirement(p: string): Req {
  let m = /^(\S+?)\s+(in|notin)\s+\((.*)\)$/.exec(p);
  if (m) return { key: m[1], op: m[2] as 'in', values: m[3].split(',').map((v) => v.trim()) };
  m = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(p);
  if (m) return { key: m[1], op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]] };
  if (/^![^!=\s]+$/.test(p)) return { key: p.slice(1), op: '!exists', values: [] };
  if (/^[^!=\s()]+$/.test(p)) return { key: p, op: 'exists', values: [] };
  throw new Error(`unable to parse requirement: "${p}"`);
}

export function matches(reqs: Req[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    if (r.op === 'exists') return has;
    if (r.op === '!exists') return !has;
    if (r.op === 'in') return has && r.values.includes(l[r.key]);
    return !has || !r.values.includes(l[r.key]);
  });
}

/** One nodeSelectorTerm's matchExpressions (In, NotIn, Exists, DoesNotExist, Gt, Lt) against a node's labels. */
export function termMatches(term: any, labels: Record<string, string>): boolean {
  return (term.matchExpressions ?? []).every((e: any) => {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const v = labels[e.key];
    switch (e.operator) {
      case 'In':
        return has && e.values.includes(v);
      case 'NotIn':
        return !has || !e.values.includes(v);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      case 'Gt':
        return has && Number(v) > Number(e.values[0]);
      case 'Lt':
        return has && Number(v) < Number(e.values[0]);
      default:
        return false;
    }
  });
}
