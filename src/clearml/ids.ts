// Task ids as ClearML clients want them. The agent treats an argument as an id only when it has 30 or more hex
// characters (otherwise it looks it up as a name), and Flotilla's are 12: a ClearML id is the Flotilla id after
// a run of zeros and a "1" that marks where it starts, so the mapping goes both ways without a table.
const WIDTH = 32;

export function toClearmlId(id: string): string {
  if (id.length >= WIDTH - 1 || !/^[0-9a-f]+$/.test(id)) return id;
  return '0'.repeat(WIDTH - 1 - id.length) + '1' + id;
}

export function fromClearmlId(id: string): string {
  const m = /^0*1([0-9a-f]+)$/.exec(id);
  return m && id.length === WIDTH ? m[1]! : id;
}
