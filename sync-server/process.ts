/**
 * Entry-script plumbing shared by every server: start, report a startup failure in one clear
 * line and exit non-zero, and close cleanly on SIGINT/SIGTERM so that writes in flight finish.
 */
export async function runUntilSignal(
  name: string,
  start: () => Promise<{ close(): Promise<void> }>,
): Promise<void> {
  let server: { close(): Promise<void> };
  try {
    server = await start();
  } catch (err) {
    process.stderr.write(`${name}: cannot start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${name}: ${signal} received, closing\n`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`${name}: error while closing: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
