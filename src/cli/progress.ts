// Progress on stderr: only on a terminal, and only once a run has taken long enough to need it.
export class Progress {
  private readonly started = Date.now();
  private lastWrite = 0;
  private shown = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    /** Stay silent during the first `delayMs`: short runs print nothing. */
    private readonly delayMs = 1_000,
  ) {}

  private get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  /** Shows `message` in place of the previous one, at most ten times a second. */
  update(message: string): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.started < this.delayMs || now - this.lastWrite < 100) return;
    this.lastWrite = now;
    this.shown = true;
    const columns = this.stream.columns || 80;
    this.stream.write(`\r${message.slice(0, columns - 1)}\x1b[K`);
  }

  /** Clears the progress line, if one was shown. */
  done(): void {
    if (this.shown) this.stream.write("\r\x1b[K");
    this.shown = false;
  }
}
