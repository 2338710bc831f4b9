// Lets a follow loop sleep until something may have changed (a file-system event, new input, stop()) or a
// poll interval passes. A wake that arrives while the loop is busy is remembered, so none is lost.

export class Waker {
  private woken = false;
  private release: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;

  wake(): void {
    const release = this.release;
    if (release === null) {
      this.woken = true;
      return;
    }
    this.settle();
    release();
  }

  /** Resolves on wake(), or after ms when given. */
  wait(ms?: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    if (this.release !== null) throw new Error('only one waiter at a time');
    return new Promise<void>((resolve) => {
      this.release = resolve;
      if (ms !== undefined) {
        this.timer = setTimeout(
          () => {
            this.settle();
            resolve();
          },
          Math.max(0, ms),
        );
      }
    });
  }

  private settle(): void {
    this.release = null;
    this.woken = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
