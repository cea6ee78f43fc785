// `npm run bench:audit`: appends ENTRIES (default 1,000,000) audit entries to a real LevelDB
// hash chain, timing every append, then verifies the whole chain and its checkpoints.
// Prints the append latency percentiles at the start and at the end of the log, and the
// verification time.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../blob-server/audit/audit-log.ts';

const ENTRIES = Number(process.env.ENTRIES ?? 1_000_000);
const dir = await mkdtemp(join(tmpdir(), 'exhibit-bench-audit-'));

function percentiles(samples: Float64Array): string {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return `p50 ${(at(0.5) * 1000).toFixed(0)} µs, p95 ${(at(0.95) * 1000).toFixed(0)} µs, p99 ${(at(0.99) * 1000).toFixed(0)} µs, max ${at(1).toFixed(1)} ms`;
}

try {
  const log = await AuditLog.open(join(dir, 'audit'), { keyDir: join(dir, 'keys') });
  const window = 10_000;
  const first = new Float64Array(window);
  const last = new Float64Array(window);
  const started = performance.now();
  for (let i = 0; i < ENTRIES; i++) {
    const t = performance.now();
    await log.record({
      action: i % 10 === 0 ? 'evidence.downloaded' : 'evidence.viewed',
      actor: { userId: `user-${i % 250}`, email: `user-${i % 250}@agency.example` },
      target: `case:case-${i % 5000}`,
      details: { evidence: `ev-${i}`, sha256: 'ab'.repeat(32), range: 'bytes=0-1048575' },
      ip: '10.1.2.3',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131',
    });
    const took = performance.now() - t;
    if (i < window) first[i] = took;
    if (i >= ENTRIES - window) last[i - (ENTRIES - window)] = took;
    if (i > 0 && i % 100_000 === 0) {
      console.log(`${i} entries, ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  }
  const appendSeconds = (performance.now() - started) / 1000;
  console.log(
    `appended ${ENTRIES} entries in ${appendSeconds.toFixed(1)} s (${(ENTRIES / appendSeconds).toFixed(0)}/s)`,
  );
  console.log(`append latency, first ${window}: ${percentiles(first)}`);
  console.log(
    `append latency, last ${window} (log holding ${ENTRIES - window}+): ${percentiles(last)}`,
  );
  await log.checkpoint();
  const verifyStarted = performance.now();
  const result = await log.verify();
  const verifySeconds = (performance.now() - verifyStarted) / 1000;
  console.log(
    `verified ${result.entries} entries and ${result.checkpoints} checkpoints in ${verifySeconds.toFixed(1)} s: ${result.ok ? 'intact' : JSON.stringify(result.problem)}`,
  );
  await log.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
