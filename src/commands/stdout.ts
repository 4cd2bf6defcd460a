/**
 * What a closed stdout means. For the one-shot commands (`analyze`, `messages`, `config`, `tail`) the reader is gone
 * and so is the point of going on: EPIPE ends the process quietly with 0, as `cat` and `grep` end in `… | head -1`,
 * instead of an unhandled 'error' event's stack trace. The daemon only prints alerts to stdout as a convenience:
 * there, a closed stdout stops the printing and the daemon goes on serving.
 */
let keepRunning = false;
let closed = false;

/** Installs the handler (once, at the CLI's entry). Other write errors end the command with exit code 2. */
export function handleStdoutErrors(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') {
      closed = true;
      if (!keepRunning) process.exit(0);
      return;
    }
    if (keepRunning) return;
    process.stderr.write(`spoofwatch: cannot write output: ${e.message}\n`);
    process.exit(2);
  });
}

/** The daemon: a closed stdout must not stop it. */
export function keepRunningWhenStdoutCloses(): void {
  keepRunning = true;
}

/** False once stdout's reader has gone (EPIPE): printers stop writing. */
export function stdoutOpen(): boolean {
  return !closed;
}
