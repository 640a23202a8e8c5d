import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { DEMO_LOGIN } from '../src/db/start';
import { checkAccessibility, openBrowser, screenshot, startFreshServer, watchConsole } from './browser';

/** The demo admin, logged in in a browser of her own (another PC), does `work` there. */
async function asAdminElsewhere(baseUrl: string, work: (page: Page) => Promise<void>): Promise<void> {
  const browser = await openBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(`${baseUrl}/login`);
    await page.getByLabel('E-Mail').fill(DEMO_LOGIN.email);
    await page.getByLabel('Passwort').fill(DEMO_LOGIN.password);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await work(page);
  } finally {
    await browser.close();
  }
}

/**
 * The browser smoke test: a real server on embedded PostgreSQL, Debian's
 * Chromium, the pages a clerk sees, screenshots in e2e/screenshots/, axe.
 */
async function main(): Promise<void> {
  const server = await startFreshServer();
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

    step = 'contacts list';
    await page.getByRole('navigation', { name: 'Hauptnavigation' }).getByRole('link', { name: 'Kontakte' }).click();
    await page.getByRole('heading', { name: 'Kontakte', exact: true }).waitFor();
    await page.getByText(/\d+ Kontakte/).first().waitFor();
    await screenshot(page, '10-contacts');
    await checkAccessibility(page, step);

    step = 'paging by keyboard keeps the cursor on "Weiter"';
    await page.locator('.pager a[rel=next]').focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/page=2/);
    await page.getByText(/Seite 2 von \d+/).waitFor();
    // The cursor moves once htmx has settled the new rows, a moment after they show.
    await page.waitForFunction(() => document.activeElement?.getAttribute('rel') === 'next', undefined, { timeout: 5000 });
    await page.locator('.pager').getByRole('link', { name: /Erste Seite/ }).click();
    await page.waitForURL((url) => !url.search.includes('page='));

    step = 'create dialog: empty save shows messages';
    await page.getByRole('link', { name: 'Erstellen' }).click();
    const dialog = page.getByRole('dialog', { name: 'Kontakt erstellen' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Speichern' }).click();
    await dialog.getByText('Bitte Nachname oder Firma angeben.').first().waitFor();
    // The cursor waits in the first field to mend.
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-invalid')), 'true');
    await screenshot(page, '11-create-dialog-errors');
    await checkAccessibility(page, step);

    step = 'create dialog: save';
    await dialog.getByLabel('Vorname').fill('Zoë');
    await dialog.getByLabel('Nachname').fill('Übermann');
    await dialog.getByLabel('Firma').fill('Übermann & Söhne GmbH');
    await dialog.getByLabel('E-Mail').fill('zoe@uebermann.de');
    // F5 or Back with a contact typed into the dialog asks first (it threw the input away without a word).
    const leavingAsks = () => page.evaluate(() => {
      const leaving = new Event('beforeunload', { cancelable: true });
      window.dispatchEvent(leaving);
      return leaving.defaultPrevented;
    });
    assert.equal(await leavingAsks(), true);
    await dialog.getByRole('button', { name: 'Nummer erzeugen' }).click();
    // The demo numbers run up to K-00400: the prediction is the next free one, nothing consumed yet.
    await dialog.locator('input[readonly][value="K-00401"]').waitFor();
    await screenshot(page, '11b-create-dialog-number');
    await dialog.getByRole('button', { name: 'Speichern' }).click();
    await page.getByText('Kontakt Zoë Übermann wurde mit der Kundennummer K-00401 erstellt.').waitFor();
    await dialog.waitFor({ state: 'detached' });
    await page.locator('tr.is-new', { hasText: 'Zoë Übermann' }).waitFor();
    // The cursor is on the message, not back on "Erstellen": an Enter pressed again to be sure opens nothing.
    assert.equal(await page.evaluate(() => document.activeElement?.className), 'message message-success');
    await page.keyboard.press('Enter');
    await page.waitForTimeout(500);
    assert.equal(await page.locator('dialog').count(), 0);
    assert.equal(await leavingAsks(), false);
    await screenshot(page, '12-contact-created');

    step = 'live search';
    // The address follows the search: one step for the Back button, not one for every half-typed word.
    const historyBefore = await page.evaluate(() => history.length);
    await page.getByLabel('Suche').fill('uber');
    await page.waitForURL(/q=uber(&|$)/);
    await page.getByLabel('Suche').fill('ubermann');
    await page.waitForURL(/q=ubermann/);
    assert.equal(await page.evaluate(() => history.length), historyBefore + 1);
    await page.getByText('1 Kontakt', { exact: true }).waitFor();
    assert.equal(await page.locator('#results tbody tr').count(), 1);
    await screenshot(page, '13-search');

    step = 'Back steps back through the filters and the search';
    await page.getByLabel('Sortierung').selectOption('-created');
    await page.waitForURL(/sort=-created/);
    assert.equal(await page.evaluate(() => history.length), historyBefore + 2);
    // The page is read anew for the address stepped back to (htmx keeps no snapshots: historyCacheSize 0).
    await Promise.all([page.waitForEvent('load'), page.goBack()]);
    await page.waitForURL((u) => u.search.includes('q=ubermann') && !u.search.includes('sort='));
    assert.equal(await page.getByLabel('Sortierung').inputValue(), 'name');
    await Promise.all([page.waitForEvent('load'), page.goBack()]);
    await page.waitForURL((u) => u.pathname === '/contacts' && !u.search.includes('q='));
    assert.equal(await page.getByLabel('Suche').inputValue(), '');
    await Promise.all([page.waitForEvent('load'), page.goForward()]);
    await page.waitForURL(/q=ubermann/);
    await page.getByText('1 Kontakt', { exact: true }).waitFor();

    step = 'tick a row straight from the search box';
    // Leaving the box once searched again and redrew the rows under the click: ticked on the server, not on screen.
    const searchesAgain: string[] = [];
    const onRequest = (request: { url(): string; method(): string }) => {
      if (request.method() === 'GET' && /\/contacts\?/.test(request.url())) searchesAgain.push(request.url());
    };
    page.on('request', onRequest);
    await page.locator('#results .row-select').first().check();
    await page.locator('#bulk-bar').getByText('1 ausgewählt').waitFor();
    await page.waitForTimeout(500);
    page.off('request', onRequest);
    assert.deepEqual(searchesAgain, []);
    assert.equal(await page.locator('#results .row-select').first().isChecked(), true);

    step = 'another search says where the ticks are';
    await page.getByLabel('Suche').fill('uberman');
    await page.waitForURL(/q=uberman(&|$)/);
    await page.locator('#bulk-bar').getByText('1 Kontakt ist bei einer anderen Suche oder mit anderen Filtern ausgewählt.').waitFor();
    await screenshot(page, '13b-selection-elsewhere');
    await checkAccessibility(page, step);
    await page.locator('#bulk-bar').getByRole('link', { name: 'Zurück zu dieser Auswahl' }).click();
    await page.waitForURL(/q=ubermann(&|$)/);
    await page.locator('#bulk-bar').getByText('1 ausgewählt').waitFor();
    await page.locator('#results .row-select').first().uncheck();
    await page.locator('#bulk-bar').waitFor({ state: 'hidden' });

    step = 'master data';
    await page.getByRole('link', { name: 'Zoë Übermann' }).click();
    await page.getByRole('heading', { name: 'Zoë Übermann' }).waitFor();
    await page.getByLabel('Ort').fill('Würzburg');
    await page.getByRole('button', { name: 'Stammdaten speichern' }).click();
    await page.getByText('Die Änderungen wurden gespeichert.').waitFor();
    await screenshot(page, '14-master-data');
    await checkAccessibility(page, step);

    step = 'status: prospect to customer with confirmation';
    await page.locator('.status-control').getByRole('link', { name: 'Kunde' }).click();
    const confirm = page.getByRole('dialog', { name: 'Status ändern' });
    await confirm.getByText('Soll Zoë Übermann von „Interessent“ zu „Kunde“ wechseln?').waitFor();
    await screenshot(page, '15-status-dialog');
    await checkAccessibility(page, step);
    await confirm.getByRole('button', { name: 'Bestätigen' }).click();
    await page.getByText('Status von Zoë Übermann geändert: Interessent → Kunde.').waitFor();
    await page.locator('.status-control .current', { hasText: 'Kunde' }).waitFor();
    await page.getByText('hat den Status geändert: Interessent → Kunde').waitFor();

    step = 'assignment: picking an employee chooses "Einzelne Mitarbeiter"';
    const assignment = page.locator('fieldset.assignment');
    assert.equal(await assignment.locator('input[name=assignment][value=all]').isChecked(), true);
    await assignment.locator('select[name=assignee_ids]').selectOption({ index: 0 });
    assert.equal(await assignment.locator('input[name=assignment][value=users]').isChecked(), true);
    await page.getByRole('button', { name: 'Zuweisung speichern' }).click();
    await page.getByText(/hat die Zuweisung geändert: Alle → /).waitFor();

    step = '"Zurück zur Liste" returns to the search';
    await page.getByRole('link', { name: /Zurück zur Liste/ }).click();
    await page.waitForURL(/\/contacts\?q=ubermann/);
    await page.locator('#results tbody tr', { hasText: 'Zoë Übermann' }).waitFor();

    step = 'select three rows: the bar appears';
    await page.goto(`${server.url}/contacts`);
    const boxes = page.locator('#results .row-select');
    for (let i = 0; i < 3; i++) await boxes.nth(i).check();
    const bar = page.locator('#bulk-bar');
    await bar.getByText('3 ausgewählt').waitFor();
    await screenshot(page, '16-bulk-bar');
    await checkAccessibility(page, step);

    step = 'new group from the selection';
    await bar.getByRole('button', { name: 'Neue Gruppe' }).click();
    const groupDialog = page.getByRole('dialog', { name: 'Neue Gruppe' });
    await groupDialog.getByLabel('Name der Gruppe').fill('Messe Köln');
    await screenshot(page, '17-bulk-new-group');
    await checkAccessibility(page, step);
    await groupDialog.getByRole('button', { name: 'Gruppe anlegen' }).click();
    await page.getByText('Gruppe „Messe Köln“ mit 3 Kontakten angelegt.').waitFor();
    await bar.waitFor({ state: 'hidden' });

    step = 'archive one contact through the bar';
    await boxes.nth(3).check();
    await bar.getByText('1 ausgewählt').waitFor();
    const archived = (await page.locator('#results tbody tr').nth(3).locator('td a').first().textContent())!.trim();
    await bar.getByRole('button', { name: 'Archivieren' }).click();
    const archiveDialog = page.getByRole('dialog', { name: 'Archivieren' });
    await archiveDialog.getByText('1 Kontakt archivieren?').waitFor();
    await archiveDialog.getByRole('button', { name: 'Archivieren' }).click();
    await page.getByText('1 Kontakt archiviert.').waitFor();
    assert.equal(await page.locator('#results tbody tr', { hasText: archived }).count(), 0);
    await screenshot(page, '18-bulk-archived');

    step = 'a temporary group, added to the new group from inside it';
    await page.locator('.group-sidebar a', { hasText: 'Messe Köln' }).waitFor();
    await boxes.nth(4).check();
    await boxes.nth(5).check();
    await bar.getByText('2 ausgewählt').waitFor();
    await bar.getByRole('button', { name: 'Temporäre Gruppe' }).click();
    await page.getByRole('dialog', { name: 'Temporäre Gruppe' }).getByRole('button', { name: 'Temporäre Gruppe anlegen' }).click();
    await page.getByText(/Temporäre Gruppe „Temporär .*“ mit 2 Kontakten angelegt\./).waitFor();
    await page.locator('.group-sidebar a', { hasText: 'temporär' }).click();
    await page.waitForURL(/group=\d+/);
    await page.locator('.result-count', { hasText: /^\s*2 Kontakte\s+in der Gruppe „Temporär .*“\s*$/ }).waitFor();
    await page.locator('#results .page-select').check();
    await bar.getByText('2 ausgewählt').waitFor();
    await bar.getByRole('button', { name: 'Zur Gruppe hinzufügen' }).click();
    const addDialog = page.getByRole('dialog', { name: 'Zur Gruppe hinzufügen' });
    await addDialog.getByLabel('Gruppe', { exact: true }).selectOption({ label: 'Messe Köln' });
    await addDialog.getByRole('button', { name: 'Hinzufügen' }).click();
    await page.getByText('2 Kontakte zur Gruppe „Messe Köln“ hinzugefügt.').waitFor();
    await page.locator('.group-sidebar a', { hasText: 'Messe Köln' }).locator('.group-count', { hasText: '5' }).waitFor();
    await screenshot(page, '19-groups');
    await checkAccessibility(page, step);

    step = 'settings: employees';
    await page.getByRole('link', { name: 'Einstellungen' }).click();
    await page.getByRole('heading', { name: 'Mitarbeiter', exact: true }).waitFor();
    await page.getByRole('link', { name: 'Emily Clarke deaktivieren' }).click();
    const deactivate = page.getByRole('dialog', { name: 'Mitarbeiter deaktivieren' });
    await deactivate.getByText('Emily Clarke wird sofort abgemeldet').waitFor();
    await checkAccessibility(page, 'settings: deactivate dialog');
    await deactivate.getByRole('button', { name: 'Deaktivieren' }).click();
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

    step = 'settings: competences';
    await page.getByRole('navigation', { name: 'Einstellungen' }).getByRole('link', { name: 'Kompetenzen' }).click();
    await page.getByRole('heading', { name: 'Kompetenzen', exact: true }).waitFor();
    await page.getByRole('link', { name: 'Kompetenz anlegen' }).click();
    await page.getByLabel('Name').fill('Vertrieb Nord');
    await page.getByLabel('Max Müller').check();
    await page.getByRole('button', { name: 'Anlegen' }).click();
    await page.getByRole('row', { name: /Vertrieb Nord\s+Max Müller/ }).waitFor();
    await screenshot(page, '06-settings-competences');
    await checkAccessibility(page, step);

    step = 'settings: number circles';
    await page.getByRole('link', { name: 'Nummernkreise' }).click();
    await page.getByRole('heading', { name: 'Nummernkreise', exact: true }).waitFor();
    await screenshot(page, '07-number-circles');
    await checkAccessibility(page, step);
    await page.getByRole('link', { name: 'Neuer Nummernkreis' }).click();
    await page.getByLabel('Präfix').fill('L-');
    await page.getByLabel('Stellen').fill('4');
    await page.locator('#number-preview').getByText('L-0001').waitFor();

    step = 'assign a contact to a competence';
    await page.goto(`${server.url}/contacts?q=ubermann`);
    await page.getByRole('link', { name: 'Zoë Übermann' }).click();
    await page.getByRole('heading', { name: 'Zoë Übermann' }).waitFor();
    const contactUrl = page.url();

    step = 'leaving the master data page with a note typed asks first';
    const note = page.getByLabel('Notiz', { exact: true });
    await note.fill('Rückruf am Montag');
    const asked = new Promise<string>((resolve) => {
      page.once('dialog', (dialog) => { resolve(dialog.type()); void dialog.dismiss(); });
      setTimeout(() => resolve('no question within 5 s'), 5000);
    });
    await page.getByRole('link', { name: /Zurück zur Liste/ }).click();
    assert.equal(await asked, 'beforeunload');
    assert.equal(page.url(), contactUrl);
    assert.equal(await note.inputValue(), 'Rückruf am Montag');
    await page.getByRole('button', { name: 'Notiz hinzufügen' }).click();
    await page.getByText('Die Notiz wurde gespeichert.').waitFor();

    step = 'assign a contact to a competence (saved)';
    await page.getByLabel('Eine Kompetenz').check();
    await page.locator('#a-competence_id').selectOption({ label: 'Vertrieb Nord' });
    await page.getByRole('button', { name: 'Zuweisung speichern' }).click();
    await page.getByText('Die Zuweisung wurde geändert.').waitFor();

    step = 'logout';
    await page.getByRole('button', { name: 'Abmelden' }).click();
    await page.getByText('Sie wurden abgemeldet.').waitFor();

    step = 'a member of the competence sees the activity on the dashboard';
    await page.getByLabel('E-Mail').fill('max.mueller@kontakte.example');
    await page.getByLabel('Passwort').fill(DEMO_LOGIN.password);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.getByRole('heading', { name: /Guten Tag, Max Müller/ }).waitFor();
    await page.locator('.activities').getByText(/hat die Zuweisung geändert: .+ → Vertrieb Nord/).waitFor();
    await screenshot(page, '20-member-dashboard');
    await checkAccessibility(page, step);

    step = 'a new activity pops up for the member without reloading';
    await asAdminElsewhere(server.url, async (adminPage) => {
      await adminPage.goto(contactUrl);
      await adminPage.getByLabel('Notiz', { exact: true }).fill('Bitte Angebot nachfassen');
      await adminPage.getByRole('button', { name: 'Notiz hinzufügen' }).click();
      await adminPage.getByText('Die Notiz wurde gespeichert.').waitFor();
    });
    const popup = page.locator('[data-popup]', { hasText: 'Bitte Angebot nachfassen' });
    await popup.waitFor({ timeout: 30_000 });
    await page.locator('#notify-bell .count').waitFor();
    await screenshot(page, '21-notification-popup');
    await popup.getByRole('button', { name: 'Öffnen' }).click();
    await page.getByRole('heading', { name: 'Zoë Übermann' }).waitFor();

    step = 'a session that ends while a form is filled in keeps the input, and the form is sent after logging in again';
    await page.locator('#m-street').fill('Lindenweg 7');
    // Logged out in another tab of the same browser (as after 30 idle minutes): the poll notices.
    const other = await context.newPage();
    await other.goto(`${server.url}/`);
    await other.getByRole('button', { name: 'Abmelden' }).click();
    await other.getByText('Sie wurden abgemeldet.').waitFor();
    await page.getByText(/Ihre Anmeldung ist abgelaufen\. Was Sie hier eingegeben haben, bleibt stehen/).waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Stammdaten speichern' }).click();
    await page.waitForFunction(() => document.activeElement?.closest('#messages') !== null, undefined, { timeout: 5000 });
    assert.equal(await page.locator('#m-street').inputValue(), 'Lindenweg 7');
    assert.match(page.url(), /\/contacts\/\d+$/);
    await screenshot(page, '22-session-ended');
    await checkAccessibility(page, step);
    await other.getByLabel('E-Mail').fill('max.mueller@kontakte.example');
    await other.getByLabel('Passwort').fill(DEMO_LOGIN.password);
    await other.getByRole('button', { name: 'Anmelden' }).click();
    await other.getByRole('heading', { name: /Guten Tag, Max Müller/ }).waitFor();
    await other.close();
    await page.bringToFront();
    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await page.getByText('Sie sind wieder angemeldet. Ihre Eingaben sind noch da: Sie können jetzt speichern.').waitFor();
    await page.getByRole('button', { name: 'Stammdaten speichern' }).click();
    await page.getByText('Die Änderungen wurden gespeichert.').waitFor();
    assert.equal(await page.locator('#m-street').inputValue(), 'Lindenweg 7');

    step = 'a summary of a colleague\'s bulk action opens as its contacts';
    await asAdminElsewhere(server.url, async (adminPage) => {
      await adminPage.goto(`${server.url}/contacts`);
      await adminPage.locator('#results .page-select').check();
      await adminPage.locator('#bulk-bar').getByRole('button', { name: 'Archivieren' }).click();
      await adminPage.getByRole('dialog', { name: 'Archivieren' }).getByRole('button', { name: 'Archivieren' }).click();
      await adminPage.getByText(/\d+ Kontakte archiviert\./).waitFor();
    });
    const summary = page.locator('[data-popup]', { hasText: /Anna Admin hat \d+ Kontakte archiviert/ });
    await summary.waitFor({ timeout: 30_000 });
    const counted = (await summary.textContent())!.match(/hat (\d+) Kontakte archiviert/)![1];
    await summary.getByRole('button', { name: 'Anzeigen' }).click();
    await page.waitForURL(/\/contacts\?group=\d+$/);
    await page.locator('.result-count', { hasText: new RegExp(`^\\s*${counted} Kontakte\\s+in der Gruppe „Archiviert von Anna Admin, `) }).waitFor();
    assert.equal(await page.locator('#results tbody tr', { hasNotText: 'Archiv' }).count(), 0);
    await screenshot(page, '23-summary-opened');
    await checkAccessibility(page, step);

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
