/** @module guest-fs/mount/cleanup — undoes host state (mounts, loop devices, LVM activations) in reverse order, whatever failed before. */

interface Undo {
  what: string;
  run: () => Promise<void>;
  done: boolean;
}

/**
 * A stack of undo steps. Each host change registers its undo right after it succeeds; `unwind` runs
 * every step not yet run, newest first, and keeps going past failures, so one stuck unmount does not
 * leave the loop devices behind. It never takes an AbortSignal: cleanup must not be cancelled.
 */
export class CleanupStack {
  private readonly steps: Undo[] = [];

  /** Registers an undo step; `release` runs it early (e.g. a mount needed only for detection). */
  push(what: string, run: () => Promise<void>): { release: () => Promise<void> } {
    const step: Undo = { what, run, done: false };
    this.steps.push(step);
    return {
      release: async () => {
        if (step.done) return;
        step.done = true;
        await step.run();
      },
    };
  }

  /** Runs every pending step, newest first; throws one error naming all that failed. */
  async unwind(): Promise<void> {
    const failed: string[] = [];
    for (const step of [...this.steps].reverse()) {
      if (step.done) continue;
      step.done = true;
      try {
        await step.run();
      } catch (e) {
        failed.push(`${step.what}: ${(e as Error).message}`);
      }
    }
    this.steps.length = 0;
    if (failed.length > 0) throw new Error(`cleanup failed: ${failed.join("; ")}`);
  }
}
