/** @module log — the build log: timestamped lines with levels, a tail for reports, a Pithos appender. */

export type LogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR";

export interface AgentLogOptions {
  /** Also write each line here (stderr of the agent, i.e. the journal in a VM). */
  echo?: (line: string) => void;
  /** Lines kept for `tail()`. Default 200. */
  keep?: number;
  now?: () => Date;
}

/**
 * Collects the log of one build. Every line is `ISO-time LEVEL message`; secrets registered with
 * `redact()` are replaced by `***` before a line is stored anywhere.
 *
 * @example
 * const log = new AgentLog({ echo: (l) => process.stderr.write(`${l}\n`) });
 * log.info("step download: started");
 * log.tail(20); // last lines, for the status report
 */
export class AgentLog {
  readonly #lines: string[] = [];
  readonly #keep: number;
  readonly #echo: ((line: string) => void) | undefined;
  readonly #now: () => Date;
  readonly #secrets = new Set<string>();
  #pending = "";
  #totalBytes = 0;

  constructor(options: AgentLogOptions = {}) {
    this.#keep = options.keep ?? 200;
    this.#echo = options.echo;
    this.#now = options.now ?? (() => new Date());
  }

  /** Never let this string reach the log (tokens). */
  redact(secret: string | undefined): void {
    if (secret && secret.length >= 4) this.#secrets.add(secret);
  }

  debug(message: string): void {
    this.write("DEBUG", message);
  }
  info(message: string): void {
    this.write("INFO", message);
  }
  warn(message: string): void {
    this.write("WARNING", message);
  }
  error(message: string): void {
    this.write("ERROR", message);
  }

  write(level: LogLevel, message: string): void {
    let text = message;
    for (const secret of this.#secrets) text = text.split(secret).join("***");
    const stamp = this.#now().toISOString();
    for (const part of text.split("\n")) {
      const line = `${stamp} ${level} ${part}`;
      this.#lines.push(line);
      if (this.#lines.length > this.#keep) this.#lines.shift();
      this.#pending += `${line}\n`;
      this.#totalBytes += Buffer.byteLength(line) + 1;
      this.#echo?.(line);
    }
  }

  /** The last `n` lines. */
  tail(n: number): string[] {
    return this.#lines.slice(-n);
  }

  /** Takes the text written since the last call (what the Pithos log object does not have yet). */
  takePending(): string {
    const text = this.#pending;
    this.#pending = "";
    return text;
  }

  /** Puts back text whose upload failed, ahead of anything newer. */
  restorePending(text: string): void {
    this.#pending = text + this.#pending;
  }

  get totalBytes(): number {
    return this.#totalBytes;
  }
}

/** What the appender needs from a Pithos client (a `PithosClient` fits). */
export interface LogObjectStore {
  createContainer(name: string): Promise<unknown>;
  putObject(
    container: string,
    name: string,
    body: Buffer | string,
    options?: { contentType?: string },
  ): Promise<unknown>;
  /** With `offset` the append is positional, so a retried request cannot write twice. */
  appendObject(
    container: string,
    name: string,
    data: Buffer | string,
    options?: { offset?: number },
  ): Promise<void>;
}

/**
 * Ships the log to a Pithos object as it grows: the object is created once, then only new bytes are
 * appended (the original re-uploaded the whole file every 5 s). A failed upload keeps its bytes for
 * the next try, so nothing is lost or sent twice.
 */
export class PithosLogAppender {
  readonly #log: AgentLog;
  readonly #store: LogObjectStore;
  readonly #container: string;
  readonly #object: string;
  readonly #onError: (error: unknown) => void;
  #created = false;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #bytesSent = 0;

  constructor(options: {
    log: AgentLog;
    store: LogObjectStore;
    container: string;
    object: string;
    onError?: (error: unknown) => void;
  }) {
    this.#log = options.log;
    this.#store = options.store;
    this.#container = options.container;
    this.#object = options.object;
    this.#onError = options.onError ?? (() => {});
  }

  get bytesSent(): number {
    return this.#bytesSent;
  }

  /** Flushes every `intervalMs` until `stop()`. */
  start(intervalMs: number): void {
    this.#timer = setInterval(() => {
      void this.flush().catch(this.#onError);
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Sends what is new; calls are serialised so appends keep their order. */
  flush(): Promise<void> {
    const next = this.#running.catch(() => {}).then(() => this.#send());
    this.#running = next;
    return next;
  }

  async #send(): Promise<void> {
    const text = this.#log.takePending();
    if (!this.#created) {
      try {
        await this.#store.createContainer(this.#container);
        await this.#store.putObject(this.#container, this.#object, text, {
          contentType: "text/plain; charset=utf-8",
        });
      } catch (error) {
        this.#log.restorePending(text);
        throw error;
      }
      this.#created = true;
      this.#bytesSent += Buffer.byteLength(text);
      return;
    }
    if (text.length === 0) return;
    try {
      await this.#store.appendObject(this.#container, this.#object, text, { offset: this.#bytesSent });
    } catch (error) {
      this.#log.restorePending(text);
      throw error;
    }
    this.#bytesSent += Buffer.byteLength(text);
  }
}
