import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { startServer, type AppServer } from './server';

export const screenshotDir = path.resolve(__dirname, 'screenshots');

/** A real server on a fresh embedded PostgreSQL, as a newcomer's `npm start` gives it. */
export function startFreshServer(): Promise<AppServer> {
  // The popup is the same at any interval: a 2 s poll spares the run waiting up to 20 s for it.
  return startServer({ DATABASE_URL: '', EMBEDDED_PG_DIR: mkdtempSync(path.join(os.tmpdir(), 'kontakte-e2e-')), NOTIFICATION_POLL_SECONDS: '2' });
}

export async function openBrowser(): Promise<BrowserContext> {
  mkdirSync(screenshotDir, { recursive: true });
  return chromium.launchPersistentContext(mkdtempSync(path.join(os.tmpdir(), 'kontakte-chromium-')), {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1366, height: 768 },
    locale: 'de-DE',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  // caret: 'initial' keeps Playwright from injecting a style element, which the strict CSP would report.
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true, caret: 'initial' });
}

/** Fails on serious or critical axe violations; prints the rest. */
export async function checkAccessibility(page: Page, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of results.violations) {
    console.log(`  axe ${name}: ${v.impact} ${v.id} (${v.nodes.length}×)${bad.includes(v) ? ' ← fails' : ''}`);
  }
  if (bad.length) throw new Error(`${name}: ${bad.length} serious/critical accessibility violations: ${bad.map((v) => v.id).join(', ')}`);
}

/**
 * Collects CSP violations and script errors: a strict CSP must not break the page.
 * Answers with an error status (a 401 for a wrong password, a 422 form) are expected.
 */
export function watchConsole(page: Page, problems: string[]): void {
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource: the server responded with a status of 4')) {
      const where = message.location();
      problems.push(`${message.text()} (${where.url}:${where.lineNumber})`);
    }
  });
  page.on('response', (response) => {
    if (response.status() === 404 || response.status() >= 500) problems.push(`${response.status()} ${response.url()}`);
  });
  page.on('pageerror', (error) => problems.push(error.message));
}
