// The live progress line: rewritten in place on a terminal, one line per step otherwise
// (logs and the test runner's captured output stay readable).
export class Progress {
  private readonly tty = Boolean(process.stderr.isTTY);
  private current = '';

  update(text: string): void {
    this.current = text;
    if (this.tty) process.stderr.write(`\r\x1b[K${text.slice(0, (process.stderr.columns ?? 120) - 1)}`);
  }

  /** A line that stays: printed above the progress line. */
  log(text: string): void {
    if (this.tty) process.stderr.write(`\r\x1b[K${text}\n${this.current}`);
    else process.stderr.write(`${text}\n`);
  }

  /** A finished step: on a terminal the live line already showed it, elsewhere log it. */
  step(text: string): void {
    if (!this.tty) process.stderr.write(`${text}\n`);
  }

  done(): void {
    if (this.tty) process.stderr.write('\r\x1b[K');
    this.current = '';
  }
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const m = Math.floor(sec / 60);
  const s = Math.round(sec % 60);
  return m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}
