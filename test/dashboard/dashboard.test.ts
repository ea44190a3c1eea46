import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { setTimeout as pace } from 'node:timers/promises';
import type { Browser, Page, Request } from 'playwright-core';
import { encodeCompactBatch } from '../../drivers/codec/encode.js';
import { parseRecordingCsv } from '../../drivers/codec/recording.js';
import { planCompactBatches, type PlannedBatch } from '../../drivers/simulator/replay-plan.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { AUTH, startTestHub, TEST_TOKEN, type TestHub } from '../helpers/hub.js';
import { REPO_ROOT, SHARED_DATA } from '../helpers/process.js';
import { chromiumMissing, launchChromium } from './browser.js';

const RECORDING = `${SHARED_DATA}/squat/squat_kamyar_set1_reps10_1.csv`;
const RECORDING_REPS = 10;
const ARTIFACTS = `${REPO_ROOT}test-artifacts/`;
/** The set replays this many times faster than it was lifted (on the hub's fake clock it is real time). */
const REPLAY_SPEED = 8;
/** Batches sent before the page opens, so the device is already listed. */
const WARMUP_BATCHES = 3;
/** Far above what any step takes, far below the test's own budget: a stuck step fails, it does not hang. */
const STEP_TIMEOUT_MS = 8000;
const PAGE_BUDGET_BYTES = 200 * 1024;
/** web/chart.js's colour of each chart's first series (x). */
const FIRST_SERIES_COLOR = '#e4572e';
/** The phone's hub plays one without the sync API (as before sync was built): the page must not ask for it. */
const VIEWPORTS = [
  { name: 'phone', width: 375, height: 812, isMobile: true, hubHasSync: false },
  { name: 'desktop', width: 1280, height: 800, isMobile: false, hubHasSync: true },
];

const missing = chromiumMissing();
if (missing) console.log(`dashboard test skipped: ${missing}`);

/**
 * Keeps every value the exercise and the rep count take (window.seen). A string, not a function: tsx would
 * wrap a named inner function in a helper that does not exist in the page.
 */
const RECORD_LIVE_VALUES = `window.seen = Object.fromEntries([['exercise', 'exercise-label'], ['reps', 'rep-count']].map(([key, id]) => {
  const values = [];
  const element = document.getElementById(id);
  new MutationObserver(() => values.push(element.textContent)).observe(element, { childList: true, characterData: true, subtree: true });
  return [key, values];
}))`;

/** A squat rack's sensor streaming a real recording to the hub over HTTP, as format (b) batches. */
class ReplayedDevice {
  private readonly origin: number;
  private next = 0;

  constructor(private readonly hub: TestHub, private readonly clock: FakeClock, readonly deviceId: string, private readonly batches: PlannedBatch[]) {
    this.origin = clock.now();
  }

  /** Sends the next `count` batches (all by default), paced at REPLAY_SPEED in real time. */
  async send(count = this.batches.length): Promise<void> {
    const end = Math.min(this.batches.length, this.next + count);
    const startedAtMs = performance.now();
    const firstAtMs = this.batches[this.next]?.atMs ?? 0;
    for (; this.next < end; this.next++) {
      const batch = this.batches[this.next];
      await pace(Math.max(0, startedAtMs + (batch.atMs - firstAtMs) / REPLAY_SPEED - performance.now()));
      this.clock.advance(Math.max(0, this.origin + batch.atMs - this.clock.now()));
      const body = encodeCompactBatch({ deviceId: this.deviceId, t0: this.origin + batch.t0Ms, dtMs: batch.dtMs, seq: batch.seq, samples: batch.samples });
      const answer = await this.hub.hub.app.inject({ method: 'POST', url: '/api/v1/readings', headers: { ...AUTH, 'content-type': 'application/json' }, payload: body });
      assert.equal(answer.statusCode, 202, answer.body);
    }
  }

  /** The last windows of the set close once the hub's clock moves past them. */
  finish(): void {
    this.clock.advance(2000);
  }
}

/** Console errors, page errors and bytes transferred, collected from the moment the page opens. */
function watch(page: Page) {
  const errors: string[] = [];
  const sizes: Array<Promise<{ url: string; bytes: number }>> = [];
  const urls: string[] = [];
  page.on('console', (message) => message.type() === 'error' && errors.push(`console: ${message.text()}`));
  page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
  page.on('request', (request) => urls.push(request.url()));
  page.on('requestfinished', (request: Request) => {
    // Sizes of a request that ends while the page closes cannot be read any more (and are not counted).
    sizes.push(request.sizes().then((s) => ({ url: request.url(), bytes: s.responseHeadersSize + s.responseBodySize }), () => ({ url: request.url(), bytes: 0 })));
  });
  return {
    errors,
    urls: () => urls,
    async bytes() {
      const all = await Promise.all(sizes);
      const isUplot = (url: string) => new URL(url).pathname.startsWith('/vendor/uplot/');
      const sum = (list: typeof all) => list.reduce((total, s) => total + s.bytes, 0);
      return { page: sum(all.filter((s) => !isUplot(s.url))), uplot: sum(all.filter((s) => isUplot(s.url))), requests: all.length };
    },
  };
}

/** Pixels of a chart's canvas drawn in the first series' colour: the line itself, not the axes or grid. */
function seriesPixels(page: Page, chartId: string): Promise<number> {
  return page.evaluate(({ chartId, hex }) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`#${chartId} canvas`)!;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    let n = 0;
    for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i] - r) < 40 && Math.abs(data[i + 1] - g) < 40 && Math.abs(data[i + 2] - b) < 40 && data[i + 3] > 128) n++;
    return n;
  }, { chartId, hex: FIRST_SERIES_COLOR });
}

async function story(browser: Browser, hub: TestHub, device: ReplayedDevice, viewport: (typeof VIEWPORTS)[number]) {
  const started = performance.now();
  const api = async (method: 'GET' | 'POST', url: string, payload?: object) => hub.hub.app.inject({ method, url, headers: AUTH, ...(payload && { payload }) });
  const context = await browser.newContext({ viewport: { width: viewport.width, height: viewport.height }, isMobile: viewport.isMobile, hasTouch: viewport.isMobile });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  try {
    const page = await context.newPage();
    const seen = watch(page);
    if (!viewport.hubHasSync) await page.route('**/dashboard.json', (route) => route.fulfill({ json: { sync: false } }));
    await page.goto(`http://127.0.0.1:${hub.hub.address.port}/`);

    // The token, asked once.
    await page.locator('#token-input').fill(TEST_TOKEN);
    await page.locator('#token-submit').click();

    // The device is listed with its figures; select it.
    const deviceRow = page.locator(`[data-device-id="${device.deviceId}"] button`);
    await deviceRow.waitFor();
    assert.equal(await deviceRow.locator('[data-field="transport"]').textContent(), 'http');
    await deviceRow.click();
    assert.equal(await deviceRow.getAttribute('aria-pressed'), 'true');

    // A session started from the page, for a squat rack.
    await page.locator('#session-device').selectOption(device.deviceId);
    await page.locator('#session-candidates input[value="squat"]').check();
    await page.locator('#session-start').click();
    const row = page.locator(`.session[data-status="active"]`, { hasText: device.deviceId });
    await row.waitFor();
    const sessionId = (await row.getAttribute('data-session-id'))!;
    const created = (await api('GET', `/api/v1/sessions/${sessionId}`)).json();
    assert.deepEqual([created.deviceId, created.status, created.candidates], [device.deviceId, 'active', ['squat']]);

    // Every value the exercise and the rep count take while the set streams in.
    await page.evaluate(RECORD_LIVE_VALUES);
    await device.send();
    device.finish();
    const final = await page.waitForFunction((min) => Number(document.getElementById('rep-count')!.textContent) >= min, RECORDING_REPS - 2).then(() => page.locator('#rep-count').textContent());
    const live = await page.evaluate(() => (window as unknown as { seen: { exercise: string[]; reps: string[] } }).seen);
    assert.ok(live.exercise.includes('squat'), `the page showed the squat: ${live.exercise.join(',')}`);
    assert.match((await page.locator('#exercise-confidence').textContent())!, /^\d+%$/);
    const repCounts = [...new Set(live.reps.map(Number))];
    assert.ok(repCounts.length >= 3 && repCounts.every((n, i) => i === 0 || n > repCounts[i - 1]), `reps counted up live: ${repCounts.join(',')}`);
    assert.ok(Math.abs(Number(final) - RECORDING_REPS) <= 2, `reps ${final}`);

    // The chart drew the selected device's readings, decimated by the hub (25 Hz over a 10 s window).
    const points = Number(await page.locator('#chart-accel').getAttribute('data-points'));
    assert.ok(points > 100 && points <= 260, `chart points ${points}`);
    assert.ok((await seriesPixels(page, 'chart-accel')) > 100, 'the acceleration line is drawn');
    assert.ok((await seriesPixels(page, 'chart-gyro')) > 100, 'the rotation line is drawn');

    // Labelled and ended from the page.
    await row.locator('input[name="label"]').fill('squat');
    await row.locator('button[data-action="label"]').click();
    await page.locator(`.session[data-session-id="${sessionId}"][data-label="squat"]`).waitFor();
    await page.locator(`.session[data-session-id="${sessionId}"] button[data-action="end"]`).click();
    await page.locator(`.session[data-session-id="${sessionId}"][data-status="ended"]`).waitFor();
    const ended = (await api('GET', `/api/v1/sessions/${sessionId}`)).json();
    assert.equal(ended.label, 'squat');
    assert.equal(ended.status, 'ended');

    // The sync backlog, or why there is none.
    if (viewport.hubHasSync) await page.locator('#sync-status dd', { hasText: /^off$/ }).waitFor();
    else await page.locator('#sync-status dd', { hasText: 'not available on this hub' }).waitFor();
    assert.equal(seen.urls().some((url) => url.includes('/api/v1/sync')), viewport.hubHasSync);
    await page.locator('#health-pill[data-state="ok"]').waitFor();

    // Fits the viewport: nothing scrolls sideways.
    const overflow = (await page.evaluate(() => document.documentElement.scrollWidth)) - viewport.width;
    assert.ok(overflow <= 0, `horizontal overflow ${overflow}px at ${viewport.width}px`);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}dashboard-${viewport.name}.png`, fullPage: true });
    const bytes = await seen.bytes();
    await page.close();
    console.log(`${viewport.name} ${viewport.width}x${viewport.height}: ${Math.round(performance.now() - started)} ms, page ${bytes.page} B in ${bytes.requests} requests (uPlot ${bytes.uplot} B aside), reps ${repCounts.join(',')}`);
    assert.deepEqual(seen.errors, []);
    assert.ok(bytes.page < PAGE_BUDGET_BYTES, `page transferred ${bytes.page} B`);
    assert.ok(bytes.uplot > 0, 'uPlot came from the hub');
  } finally {
    await context.close();
  }
}

describe('the dashboard in headless Chromium', { skip: missing }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(() => browser?.close());

  test('it shows devices, the live chart, exercise and reps, and runs a session, on a phone and a desktop', async (t) => {
    const clock = new FakeClock(Date.now());
    const hub = await startTestHub({}, clock);
    t.after(() => hub.close());
    const batches = planCompactBatches(parseRecordingCsv(await readFile(RECORDING, 'utf8')).rows);

    for (const viewport of VIEWPORTS) {
      const device = new ReplayedDevice(hub, clock, `rack-${viewport.name}`, batches);
      const paired = await hub.hub.app.inject({ method: 'POST', url: '/api/v1/devices/pair', headers: AUTH, payload: { transport: 'http', deviceId: device.deviceId, candidates: ['squat'] } });
      assert.equal(paired.statusCode, 201, paired.body);
      await device.send(WARMUP_BATCHES);
      await story(browser, hub, device, viewport);
    }
  });

  test('it asks for the token once, refuses a wrong one, and keeps the right one in the browser', async (t) => {
    const hub = await startTestHub();
    t.after(() => hub.close());
    const context = await browser.newContext();
    t.after(() => context.close());
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    const page = await context.newPage();
    const seen = watch(page);
    await page.goto(`http://127.0.0.1:${hub.hub.address.port}/`);

    await page.locator('#token-input').fill('not-the-token-0123456789');
    await page.locator('#token-submit').click();
    await page.locator('#token-error', { hasText: 'did not accept' }).waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('gymhub.token')), null, 'a refused token is not kept');

    await page.locator('#token-input').fill(TEST_TOKEN);
    await page.locator('#token-submit').click();
    await page.locator('#hub-id', { hasText: hub.hub.health().hubId }).waitFor();
    await page.locator('#stream-state[data-state="open"]').waitFor();

    await page.reload();
    await page.locator('#hub-id', { hasText: hub.hub.health().hubId }).waitFor();
    assert.equal(await page.locator('#token-dialog').getAttribute('open'), null, 'not asked again');
    // The one refused request is the only error in the console.
    assert.deepEqual(seen.errors.filter((e) => !/status of 401/.test(e)), []);
    assert.equal(seen.errors.length, 1, seen.errors.join('\n'));
  });
});
