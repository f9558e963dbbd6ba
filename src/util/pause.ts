/** A wait that can be cut short: a loop sleeps in `for(ms)` and anything that has new work for it calls `wake()`. */
export class Pause {
  private wakeUp?: () => void;

  /** Resolves after `ms`, or earlier on wake(). */
  for(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  wake(): void {
    this.wakeUp?.();
  }
}
