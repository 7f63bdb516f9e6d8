/** @module build-stop — why a build stops early: the machine shuts down, the service says stop, time runs out. */
import { type AgentError, agentErrors } from "./errors.ts";

/**
 * The one signal the build's steps watch. The first reason given wins; it is the error the build
 * ends with.
 *
 * @example
 * const stop = new BuildStop();
 * stop.followShutdown(cliSignal);
 * const disarm = stop.armTimeout(3600);
 */
export class BuildStop {
  readonly #controller = new AbortController();

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  stop(reason: AgentError): void {
    if (!this.signal.aborted) this.#controller.abort(reason);
  }

  /** Stops when `shutdown` (the CLI's SIGTERM/SIGINT) aborts, or now if it has already. */
  followShutdown(shutdown: AbortSignal | undefined): void {
    if (!shutdown) return;
    const onShutdown = () => this.stop(agentErrors.shutDown());
    if (shutdown.aborted) onShutdown();
    else shutdown.addEventListener("abort", onShutdown, { once: true });
  }

  /** Stops the build after `seconds` (never when undefined); returns what disarms it. */
  armTimeout(seconds: number | undefined): () => void {
    if (seconds === undefined) return () => {};
    const timer = setTimeout(() => this.stop(agentErrors.buildTimeout(seconds)), seconds * 1000);
    timer.unref();
    return () => clearTimeout(timer);
  }

  /** Resolves when the build is stopped (never otherwise). */
  stopped(): Promise<void> {
    const signal = this.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  }
}
