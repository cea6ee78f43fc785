/**
 * Structured one-line JSON logs on stderr, so that a deployment can ship them as they are.
 * Tests pass a logger that records instead of printing.
 */
export interface Logger {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

export function createLogger(
  component: string,
  level: 'info' | 'warn' | 'error' | 'silent' = 'info',
): Logger {
  const order = { info: 0, warn: 1, error: 2, silent: 3 } as const;
  const write = (
    lvl: 'info' | 'warn' | 'error',
    event: string,
    fields?: Record<string, unknown>,
  ) => {
    if (order[lvl] < order[level]) return;
    process.stderr.write(
      `${JSON.stringify({ time: new Date().toISOString(), level: lvl, component, event, ...fields })}\n`,
    );
  };
  return {
    info: (event, fields) => write('info', event, fields),
    warn: (event, fields) => write('warn', event, fields),
    error: (event, fields) => write('error', event, fields),
  };
}
