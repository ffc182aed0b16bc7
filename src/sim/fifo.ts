// A queue's waiting tasks: FIFO, with put-back at the head for a task whose machine was lost.
export class Fifo<T> {
  private a: T[] = [];
  private head = 0;

  get length(): number {
    return this.a.length - this.head;
  }

  peek(): T | undefined {
    return this.a[this.head];
  }

  push(x: T): void {
    this.a.push(x);
  }

  shift(): T | undefined {
    if (this.head >= this.a.length) return undefined;
    const x = this.a[this.head++];
    if (this.head > 1024 && this.head * 2 > this.a.length) {
      this.a = this.a.slice(this.head);
      this.head = 0;
    }
    return x;
  }

  unshift(x: T): void {
    if (this.head > 0) this.a[--this.head] = x;
    else this.a.unshift(x);
  }
}
