import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium package: what `.ci/run` installs and the dashboard test and bench drive. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Quiet, offline, reproducible: no sandbox (containers), no GPU, no background traffic of Chromium's own. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Why the browser cannot run here, or undefined when it can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM_PATH) ? undefined : `${CHROMIUM_PATH} is missing (apt-get install chromium)`;
}

/**
 * Launches headless Chromium. Playwright gives each launch a fresh temporary user-data-dir of its own and
 * removes it on close, so nothing of an earlier run (localStorage, cache) leaks in.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}
