// A binary min-heap of timed events; ties keep insertion order (seq), so replays are deterministic.
export interface Timed {
  t: number;
  prio: number; // lower runs first at the same instant
  seq: number;
}

export class EventHeap<E extends Timed> {
  private a: E[] = [];

  get size(): number {
    return this.a.length;
  }

  peek(): E | undefined {
    return this.a[0];
  }

  push(e: E): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  pop(): E | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(x: Timed, y: Timed): boolean {
  return x.t < y.t || (x.t === y.t && (x.prio < y.prio || (x.prio === y.prio && x.seq < y.seq)));
}
