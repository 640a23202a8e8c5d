import assert from 'node:assert/strict';
import { DEMO_LOGIN } from '../src/db/start';
import { checkAccessibility, openBrowser, screenshot, startServer, watchConsole } from './browser';

/**
 * The browser smoke test: a real server on embedded PostgreSQL, Debian's
 * Chromium, the pages a clerk sees, screenshots in e2e/screenshots/, axe.
 */
async function main(): Promise<void> {
  const server = await startServer();
  const context = await openBrowser();
  const page = await context.newPage();
  const problems: string[] = [];
  watchConsole(page, problems);
  let step = '';
  try {
    step = 'login page';
    await page.goto(`${server.url}/`);
    assert.match(page.url(), /\/login/);
    await screenshot(page, '01-login');
    await checkAccessibility(page, step);

    step = 'wrong password';
    await page.getByLabel('E-Mail').fill(DEMO_LOGIN.email);
    await page.getByLabel('Passwort').fill('falsch');
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.getByText('E-Mail oder Passwort ist falsch.').waitFor();

    step = 'login';
    await page.getByLabel('Passwort').fill(DEMO_LOGIN.password);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.getByRole('heading', { name: /Guten Tag, Anna Admin/ }).waitFor();
    await screenshot(page, '02-dashboard');
    await checkAccessibility(page, step);

    step = 'profile';
    await page.getByRole('link', { name: 'Anna Admin' }).click();
    await page.getByRole('heading', { name: 'Mein Profil' }).waitFor();
    await screenshot(page, '03-profile');
    await checkAccessibility(page, step);

    step = 'settings: employees';
    await page.getByRole('link', { name: 'Einstellungen' }).click();
    await page.getByRole('heading', { name: 'Mitarbeiter', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Emily Clarke deaktivieren' }).click();
    await page.getByText('Emily Clarke wurde deaktiviert und abgemeldet.').waitFor();
    await page.getByRole('button', { name: 'Emily Clarke reaktivieren' }).waitFor();
    await screenshot(page, '04-settings-users');
    await checkAccessibility(page, step);

    step = 'settings: employee form with errors';
    await page.getByRole('link', { name: 'Mitarbeiter anlegen' }).click();
    await page.getByRole('button', { name: 'Anlegen' }).click();
    await page.getByText('Bitte prüfen Sie die markierten Felder.').waitFor();
    await screenshot(page, '05-settings-user-form');
    await checkAccessibility(page, step);

    step = 'logout';
    await page.getByRole('button', { name: 'Abmelden' }).click();
    await page.getByText('Sie wurden abgemeldet.').waitFor();

    assert.deepEqual(problems, [], `browser console errors: ${problems.join('\n')}`);
    console.log('e2e: 1 passed, 0 failed');
  } catch (error) {
    await screenshot(page, 'failure').catch(() => undefined);
    console.error(`e2e failed at step "${step}":`, error);
    console.log('e2e: 0 passed, 1 failed');
    process.exitCode = 1;
  } finally {
    await context.close();
    await server.stop();
  }
}

void main();
