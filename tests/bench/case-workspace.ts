// `npm run bench:case`: a case with 2,000 evidence items and 20,000 annotations, written
// straight into its document on a real Exhibit server started here (the built PWA: run
// `npm run build` first), opened in headless Chromium. Measures, as medians of RUNS runs: the
// time from navigation until the evidence grid shows (the first run also downloads the case
// into IndexedDB), long tasks and frame gaps while the page scrolls to the end of the evidence,
// and how long the case list takes to show the results of a search that has to look through
// the case's evidence names and annotations. Timings are reported, never asserted.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { ExhibitProcess, ADMIN, setUpAdministrator } from '../e2e/fixtures.ts';
import { freePort } from '../helpers/net.ts';
import { TestPeer } from '../helpers/sync-client.ts';
import { addEvidence, initCase, updateCaseDetails } from '../../web/lib/shared/case-doc.ts';
import { addAnnotation } from '../../web/lib/shared/annotations-doc.ts';
import { newId } from '../../web/lib/shared/doc-names.ts';

const EVIDENCE = Number(process.env['EVIDENCE'] ?? 2000);
const ANNOTATIONS = Number(process.env['ANNOTATIONS'] ?? 20_000);
const OTHER_CASES = Number(process.env['OTHER_CASES'] ?? 200);
const RUNS = Number(process.env['RUNS'] ?? 5);
const executablePath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};
const ms = (value: number) => `${value.toFixed(0)} ms`;

async function token(base: string): Promise<string> {
  const response = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-exhibit-client': 'script' },
    body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }),
  });
  if (!response.ok) throw new Error(`sign-in failed: ${response.status}`);
  return ((await response.json()) as { accessToken: string }).accessToken;
}

const WORDS = 'suspect vehicle enters frame leaves north gate loading bay door light'.split(' ');

/** Writes the large case, and small ones around it, through sync as a client would. */
async function writeCases(base: string): Promise<string> {
  const sync = `${base.replace('http', 'ws')}/sync`;
  const access = await token(base);
  const id = newId();
  const peer = new TestPeer(sync, `case.${id}`, access);
  await peer.synced(20_000);
  const now = new Date().toISOString();
  const author = { id: 'bench', name: 'Bench Analyst' };
  peer.doc.transact(() => {
    initCase(peer.doc, {
      id,
      title: 'Large case: ring road CCTV review',
      description: 'Every camera on the ring road for the night of the incident.',
      tags: ['cctv', 'bench'],
      now,
    });
    updateCaseDetails(peer.doc, { incidentNumber: 'INC-BENCH-1', incidentType: 'Robbery' }, now);
  });
  const evidenceIds: string[] = [];
  peer.doc.transact(() => {
    for (let i = 0; i < EVIDENCE; i++) {
      const evidenceId = newId();
      evidenceIds.push(evidenceId);
      const sha256 = `${newId()}${String(i).padStart(8, '0')}`.padEnd(64, 'a').slice(0, 64);
      addEvidence(peer.doc, {
        id: evidenceId,
        name: `camera-${String(i).padStart(4, '0')}-ring-road.mp4`,
        type: 'video/mp4',
        size: 50_000_000 + i,
        sha256,
        serverSha256: sha256,
        verifiedAt: now,
        addedAt: new Date(Date.parse(now) + i * 1000).toISOString(),
        state: 'verified',
        metadata: { durationSeconds: 600, width: 1920, height: 1080, videoCodec: 'h264' },
      });
    }
  });
  for (let start = 0; start < ANNOTATIONS; start += 2000) {
    peer.doc.transact(() => {
      for (let i = start; i < Math.min(ANNOTATIONS, start + 2000); i++) {
        const target = evidenceIds[i % evidenceIds.length]!;
        const words = Array.from({ length: 8 }, (_, k) => WORDS[(i * 7 + k) % WORDS.length]);
        // One annotation in a thousand names a word nothing else has: the search looks for it.
        if (i % 1000 === 0) words.push('zephyrine');
        addAnnotation(
          peer.doc,
          target,
          { kind: 'note', time: i % 600, text: words.join(' ') },
          { id: newId(), author, now },
        );
      }
    });
  }
  await peer.savedOnServer(60_000);
  peer.destroy();
  for (let i = 0; i < OTHER_CASES; i++) {
    const other = newId();
    const small = new TestPeer(sync, `case.${other}`, access);
    await small.synced(10_000);
    initCase(small.doc, {
      id: other,
      title: `Case ${i}: ${WORDS[i % WORDS.length]} ${WORDS[(i + 3) % WORDS.length]}`,
      description: '',
      tags: [WORDS[i % 5]!],
      now,
    });
    await small.savedOnServer(10_000);
    small.destroy();
  }
  return id;
}

/**
 * Opening the case from the case list, until its first evidence item shows: `link` follows the
 * link inside the app, `address` loads the case's address afresh (the app starts too).
 */
async function openCase(page: Page, base: string, id: string, how: 'link' | 'address') {
  await page.goto(`${base}/`);
  await page.getByLabel('Search cases').fill('ring road');
  const link = page.getByRole('link', { name: 'Large case: ring road CCTV review' });
  await link.waitFor();
  const t0 = Date.now();
  if (how === 'link') await link.click();
  else await page.goto(`${base}/cases/${id}`);
  await page.getByTestId('evidence-item').first().waitFor({ timeout: 120_000 });
  return Date.now() - t0;
}

/** Scrolls to the end of the evidence, rendering page after page, watching the main thread. */
async function scrollCase(
  page: Page,
): Promise<{ longTasks: number; longest: number; gap: number }> {
  return page.evaluate(async () => {
    const tasks: number[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) tasks.push(entry.duration);
    });
    observer.observe({ type: 'longtask', buffered: false });
    const frames: number[] = [];
    let last = performance.now();
    const until = performance.now() + 6000;
    await new Promise<void>((resolve) => {
      const step = (now: number) => {
        frames.push(now - last);
        last = now;
        window.scrollBy(0, 400);
        const end = window.scrollY + window.innerHeight >= document.body.scrollHeight - 2;
        const more = document.querySelector<HTMLButtonElement>('.more button');
        if (now > until || (end && !more)) resolve();
        else requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    });
    observer.disconnect();
    const sorted = frames.slice(1).sort((a, b) => a - b);
    return {
      longTasks: tasks.length,
      longest: Math.max(0, ...tasks),
      gap: sorted[Math.floor(sorted.length * 0.95)] ?? 0,
    };
  });
}

/** Types a word into the case list's search until the matching case alone is listed. */
async function search(page: Page, base: string, word: string): Promise<number> {
  await page.goto(`${base}/`);
  const box = page.getByLabel('Search cases');
  await box.waitFor();
  await page.getByTestId('case-row').first().waitFor();
  const t0 = Date.now();
  await box.fill(word);
  await page.waitForFunction(
    () =>
      document.querySelectorAll('[data-testid="case-row"]').length === 1 &&
      !document.querySelector('[data-testid="search-scope"]')?.textContent?.includes('Searching'),
    undefined,
    { timeout: 60_000, polling: 'raf' },
  );
  return Date.now() - t0;
}

/** With PROFILE set: where the main thread spends an open from the list (top self times). */
async function profileOpen(page: Page, base: string, id: string): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  await openCase(page, base, id, 'link');
  const { profile } = await cdp.send('Profiler.stop');
  const interval =
    (profile.endTime - profile.startTime) / Math.max(1, profile.samples?.length ?? 1);
  const self = new Map<string, number>();
  for (const node of profile.nodes) {
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + (node.hitCount ?? 0) * interval);
  }
  const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 20);
  for (const [name, us] of top) console.log(`  ${(us / 1000).toFixed(1).padStart(7)} ms  ${name}`);
}

const dataDir = await mkdtemp(join(tmpdir(), 'exhibit-bench-case-'));
const port = await freePort();
const exhibit = new ExhibitProcess(port, dataDir, { LOG_LEVEL: 'warn' });
await exhibit.start();
const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
try {
  const page = await (
    await browser.newContext({ viewport: { width: 1280, height: 900 } })
  ).newPage();
  // tsx names the functions this script sends into the page with a helper the page lacks.
  await page.addInitScript({ content: 'globalThis.__name = (f) => f;' });
  await setUpAdministrator(page, exhibit);
  const written = Date.now();
  const caseId = await writeCases(exhibit.url);
  console.log(
    `case written: ${EVIDENCE} evidence items, ${ANNOTATIONS} annotations, ${OTHER_CASES} other cases (${ms(Date.now() - written)})`,
  );

  const opens: number[] = [];
  const reloads: number[] = [];
  const scrolls: Array<{ longTasks: number; longest: number; gap: number }> = [];
  for (let run = 0; run < RUNS; run++) {
    opens.push(await openCase(page, exhibit.url, caseId, 'link'));
    // Let the page settle (the first time it writes what the case list searches) and scroll.
    await page.waitForTimeout(run === 0 ? 10_000 : 1000);
    scrolls.push(await scrollCase(page));
    reloads.push(await openCase(page, exhibit.url, caseId, 'address'));
  }
  const searches: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    searches.push(await search(page, exhibit.url, 'zephyrine'));
  }
  if (process.env['PROFILE']) await profileOpen(page, exhibit.url, caseId);
  const warm = opens.slice(1);
  console.log(`open from the case list, first (downloads the case): ${ms(opens[0]!)}`);
  console.log(
    `open from the case list, held: median ${ms(median(warm))} (${warm.map(ms).join(', ')})`,
  );
  console.log(
    `open by its address (app starts too): median ${ms(median(reloads))} (${reloads.map(ms).join(', ')})`,
  );
  console.log(
    `scroll to the end: long tasks median ${median(scrolls.map((s) => s.longTasks))}, longest median ${ms(median(scrolls.map((s) => s.longest)))}, p95 frame ${ms(median(scrolls.map((s) => s.gap)))}`,
  );
  console.log(
    `search (case list, finds a word in one annotation in a thousand): median ${ms(median(searches))} (${searches.map(ms).join(', ')})`,
  );
} finally {
  await browser.close();
  await exhibit.kill('SIGTERM');
  await rm(dataDir, { recursive: true, force: true });
}
