import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type { Db } from '../db/knex';
import { batchRead } from '../db/batch';
import { parse, serviceFieldErrors, type FieldErrors } from '../web/validation';
import { flash, pageAddress, renderFragment, renderPage, renderPageOrFragment } from '../web/render';
import { isHtmx, redirect, trigger, varyOnHtmx } from '../web/htmx';
import { Conflict, HttpError, Invalid, NotFound } from '../web/errors';
import { predictNextNumber } from '../numbers/service';
import { hasDefaultCircleQuery } from '../numbers/queries';
import { ContactCreate, ContactId, ContactUpdate, ListQuery, NoteInput, StatusChange, countryCodes, salutations, editableFields, postalCodeMismatch } from './schema';
import { findContact, findDeletion, lastStatusActor, listEvents, type Contact } from './queries';
import { loadList, loadListBehindDialog } from './list';
import { addNote, changeAssignment, changeStatus, createContact, generateNumber, findPicture, NumberTaken, numberTaken, pictureVersion, setPicture, StaleEdit, StatusChangedMeanwhile, updateContact } from './service';
import { can, statuses, transition, type Status } from './status';
import { displayName, fieldText } from './format';
import type { MessageKey } from '../i18n';
import { listQueryString, narrowsList } from './urls';
import { AssignmentInput } from '../assignment/schema';
import { AssignmentChangedMeanwhile, assignmentOptions, assignmentOptionsQuery, contactTarget, loadAssignments, type AssignmentOptions } from '../assignment/queries';
import { findEmployee } from '../users/queries';
import { assignmentConflict, assignmentValuesOf } from '../assignment/form';
import { isSelected } from './selection';
import { processPicture, pictureUpload } from './pictures';

const HISTORY_PAGE = 30;

/** What every contacts view may call. */
const helpers = { displayName, pictureVersion, can, transition, statuses, countryCodes, salutations, listQueryString, narrowsList, isSelected };

function contactId(req: Request): string {
  const id = ContactId.safeParse(req.params.id);
  if (!id.success) throw new NotFound();
  return String(id.data);
}

async function loadContact(db: Db, req: Request): Promise<Contact> {
  const contact = await findContact(db, contactId(req));
  if (!contact) throw new NotFound();
  return contact;
}

/** Field messages of an Invalid from a service, translated; a taken number names its holder. */
function serviceErrors(req: Request, error: Invalid): FieldErrors {
  const errors = serviceFieldErrors(error, req.t);
  if (error instanceof NumberTaken) errors.customer_number_holder = error.holder.id;
  return errors;
}

export function contactRoutes(db: Db): Router {
  const router = Router();

  /**
   * A form's field messages, with a customer number another contact holds said now too, not
   * only once everything else is mended (`exceptId`: the contact being edited, which holds its own).
   */
  async function withNumberTaken(req: Request, errors: FieldErrors, exceptId?: string): Promise<FieldErrors> {
    const taken = errors.customer_number || typeof req.body.customer_number !== 'string' ? undefined : await numberTaken(db, req.body.customer_number, exceptId);
    return taken ? { ...errors, ...serviceErrors(req, taken) } : errors;
  }

  async function list(req: Request, res: Response) {
    const parsed = parse(ListQuery, req.query, req.t);
    const base = { title: req.t('contacts.title'), nav: 'contacts', ...helpers };
    // The page's filter fields read their options with the rest of its frame (bell, sidebar): one statement.
    const reading = isHtmx(req) ? undefined : batchRead(res, db, assignmentOptionsQuery(db));
    if (!parsed.ok) {
      const options = await reading;
      return renderPageOrFragment(req, res, 'contacts/index', 'contacts/_results', { ...base, query: {}, raw: req.query, errors: parsed.errors, page: undefined, total: 0, options }, 422);
    }
    const [locals, options] = await Promise.all([loadList(db, req, parsed.data), reading]);
    await renderPageOrFragment(req, res, 'contacts/index', 'contacts/_results', { ...base, ...locals, raw: req.query, errors: {}, options: await withFilteredEmployee(options, parsed.data.assigned, req) });
  }

  /**
   * The employee select offers active employees; a list filtered by one deactivated since (a bookmark,
   * the link of the deactivation dialog) shows them too, marked, or the select said "alle" and the
   * next change of sort or search dropped the filter.
   */
  async function withFilteredEmployee(options: AssignmentOptions | undefined, assigned: string | undefined, req: Request) {
    if (!options || !assigned || assigned === 'me' || options.users.some((u) => u.id === assigned)) return options;
    const employee = await findEmployee(db, assigned);
    if (!employee) return options;
    return { ...options, users: [...options.users, { id: String(employee.id), name: `${employee.name} ${req.t('assignment.deactivated')}` }] };
  }

  /** What the create dialog's "Nummer erzeugen" can do: is there a default circle, and (after pressing it) the predicted number. */
  async function createNumbering(generate: boolean) {
    const predicted = await predictNextNumber(db, 'contacts');
    return { circle: predicted !== undefined, generate: generate ? predicted : undefined };
  }

  async function newDialog(req: Request, res: Response) {
    const [options, numbering] = await Promise.all([assignmentOptions(db), createNumbering(false)]);
    const locals = { title: req.t('contacts.dialogTitle'), nav: 'contacts', values: { status: 'prospect', assignment: 'all', create_token: randomUUID() }, errors: {}, options, numbering, ...helpers };
    varyOnHtmx(res);
    if (isHtmx(req)) await renderFragment(res, 'contacts/_create-dialog', locals);
    else await renderPage(res, 'contacts/new', locals);
  }

  /** Whether the contact holds what the create dialog sent (typed fields only: a generated number is its own). */
  function sameAsSent(contact: Contact, sent: ContactCreate): boolean {
    const fields = ['salutation', 'first_name', 'last_name', 'company', 'email', 'phone', 'status'] as const;
    const typedNumber = sent.generate_number ? [] : (['customer_number'] as const);
    return [...fields, ...typedNumber].every((field) => (contact[field] ?? null) === (sent[field] ?? null));
  }

  async function create(req: Request, res: Response) {
    const again = async (errors: FieldErrors) => {
      const numbering = await createNumbering(req.body.generate_number === '1' && !errors.customer_number);
      const locals = { title: req.t('contacts.dialogTitle'), nav: 'contacts', values: req.body, errors, options: await assignmentOptions(db), numbering, ...helpers };
      return isHtmx(req) ? renderFragment(res, 'contacts/_create-dialog', locals, 422) : renderPage(res, 'contacts/new', { ...locals, replaceUrl: pageAddress(res, '/contacts/new') }, 422);
    };
    const form = parse(ContactCreate, req.body, req.t);
    const assignment = parse(AssignmentInput, req.body, req.t);
    if (!form.ok || !assignment.ok) {
      return again(await withNumberTaken(req, { ...(form.ok ? {} : form.errors), ...(assignment.ok ? {} : assignment.errors) }));
    }
    let created: { id: string; duplicate: boolean; number?: string };
    try {
      created = await createContact(db, form.data, assignment.data, req.user!.id);
    } catch (error) {
      if (error instanceof Invalid) return again(serviceErrors(req, error));
      // No default circle (any more): the dialog says so under the number, with everything typed kept.
      if (error instanceof Conflict && error.messageKey.startsWith('numbers.')) return again({ customer_number: req.t(error.messageKey, error.params) });
      throw error;
    }
    // Sent again after a success whose answer never arrived (with corrections typed meanwhile): the contact
    // made the first time, named as it is, and said to be made already, not the corrections as if saved.
    const first = created.duplicate ? await findContact(db, created.id) : undefined;
    const message = first && !sameAsSent(first, form.data)
      ? req.t('contacts.createdAlready', { name: displayName(first) })
      : created.number
        ? req.t('contacts.number.createdWith', { name: displayName(form.data), number: created.number })
        : req.t('contacts.created', { name: displayName(form.data) });
    if (!isHtmx(req)) {
      flash(req, res, message);
      return redirect(req, res, `${res.locals.basePath}/contacts/${created.id}`);
    }
    // The dialog closes and the list behind it shows the new contact on top.
    const locals = await loadListBehindDialog(db, req, created.id);
    flash(req, res, message);
    res.set('HX-Retarget', '#results').set('HX-Reswap', 'innerHTML');
    trigger(res, 'closeDialog');
    await renderFragment(res, 'contacts/_results', { ...locals, ...helpers });
  }

  async function showPage(res: Response, contact: Contact, extra: Record<string, unknown> = {}, status = 200) {
    const [events, assignments, options, circle] = await Promise.all([
      listEvents(db, contact.id, HISTORY_PAGE + 1),
      loadAssignments(db, contactTarget, [contact.id]),
      // Two one-value reads: one statement (batchRead).
      batchRead(res, db, assignmentOptionsQuery(db)),
      batchRead(res, db, hasDefaultCircleQuery(db, 'contacts')),
    ]);
    const numbering = can('number', contact.status);
    const assignment = assignments.get(contact.id)!;
    await renderPage(
      res,
      'contacts/show',
      {
        title: displayName(contact),
        nav: 'contacts',
        contact,
        values: contact,
        errors: {},
        events: events.slice(0, HISTORY_PAGE),
        moreEvents: events.length > HISTORY_PAGE,
        editableFields,
        assignment,
        assignmentValues: assignmentValuesOf(assignment),
        assignmentErrors: {},
        options,
        // The note form's token: sent twice (a double click, Back and again), the note is written once (addNote).
        noteToken: randomUUID(),
        numbering: contact.customer_number
          ? undefined
          : { form: 'master-form', formaction: `${res.locals.basePath}/contacts/${contact.id}/number`, circle, reason: numbering.ok ? undefined : res.locals.t(numbering.reason) },
        // The page sent back to a form (a message, a conflict) shows the contact's own address, not the form's
        // (/contacts/7/assignment): reloading then asked to send the form again, and a bookmark of it was a 404.
        // The picture form's address also carries its CSRF token, which stays out of the history so.
        replaceUrl: pageAddress(res, `/contacts/${contact.id}`),
        ...helpers,
        ...extra,
      },
      status,
    );
  }

  async function show(req: Request, res: Response) {
    // A bookmark, a notification or Back to a contact deleted since: who deleted it and when, not a bare 404.
    const contact = await contactOrGone(req, res, () => []);
    if (contact) await showPage(res, contact);
  }

  /**
   * The contact asked for, or a form was sent for; deleted meanwhile, instead a page saying by whom and when,
   * with what was typed listed to copy (a bare 404 took a long text with it), and undefined. Rendered here, not
   * by the error handler, as a status refused meanwhile is (showStatusRefusal): the page holds the input.
   */
  async function contactOrGone(req: Request, res: Response, typed: () => { label: string; text: string }[]): Promise<Contact | undefined> {
    const id = contactId(req);
    const contact = await findContact(db, id);
    if (contact) return contact;
    const deletion = await findDeletion(db, id);
    const message = deletion
      ? req.t('contacts.gone.deletedBy', { actor: deletion.actor ?? req.t('status.someone'), date: res.locals.formatDateTime(deletion.at) })
      : req.t('contacts.gone.unknown');
    await renderPage(res, 'contacts/gone', { title: req.t('contacts.gone.title'), nav: 'contacts', message, typed: typed() }, 404);
    return undefined;
  }

  /** Master data fields as sent, labelled and shown as the page shows them: to copy, when they could not be saved. */
  const typedEntries = (req: Request, res: Response, fields: readonly string[]) =>
    fields.map((field) => ({ label: req.t(`contacts.fields.${field}` as MessageKey), text: fieldText(field, req.body[field], (key) => req.t(key as MessageKey), res.locals.formatDate) }));

  /** The master data form's filled-in fields. */
  const typedMasterData = (req: Request, res: Response) => () =>
    typedEntries(req, res, editableFields.filter((field) => typeof req.body[field] === 'string' && req.body[field].trim() !== ''));

  async function update(req: Request, res: Response) {
    const contact = await contactOrGone(req, res, typedMasterData(req, res));
    if (!contact) return;
    const saved = await saveMasterData(req, res, contact);
    if (!saved) return;
    flash(req, res, req.t(saved.changed ? 'contacts.saved' : 'contacts.unchanged'));
    redirect(req, res, `${res.locals.basePath}/contacts/${contact.id}`);
  }

  /**
   * Saves the master data form of the request: `changed` says whether anything
   * was (or is now) saved; undefined when the form came back instead (its
   * errors, a conflict, a status changed meanwhile), the answer sent.
   */
  async function saveMasterData(req: Request, res: Response, contact: Contact): Promise<{ changed: boolean } | undefined> {
    const form = parse(ContactUpdate, req.body, req.t);
    const address = addressErrors(req, contact);
    if (!form.ok || address.postal_code) {
      const errors = await withNumberTaken(req, { ...(form.ok ? {} : form.errors), ...address }, contact.id);
      await showPage(res, contact, { values: req.body, errors }, 422);
      return undefined;
    }
    try {
      const { changed, alreadySaved } = await updateContact(db, contact.id, form.data, req.user!.id);
      return { changed: Boolean(changed.length || alreadySaved) };
    } catch (error) {
      if (error instanceof StaleEdit) {
        // The user's input stays, and fields they had not touched show what was saved meanwhile; the form
        // now carries the current version, so saving again is a deliberate overwrite of what differs.
        const { current, kept } = error.conflict;
        const savedValues = Object.fromEntries(kept.map(({ field }) => [field, current[field as keyof Contact]]));
        await showPage(res, current, { values: { ...req.body, ...savedValues, version: current.version }, conflict: error.conflict }, 409);
      } else if (error instanceof Invalid) {
        await showPage(res, contact, { values: req.body, errors: serviceErrors(req, error) }, 422);
      } else if (isStatusRefusal(error) && changedMeanwhile(req, contact)) {
        // Archived (say) since the page was loaded: the page anew, saying by whom, with what was typed listed to copy.
        const changed = editableFields.filter((field) => field in req.body && String(req.body[field] ?? '') !== String(contact[field as keyof Contact] ?? ''));
        await showStatusRefusal(req, res, contact.id, error, (statusRefusal) => ({ statusRefusal, typed: typedEntries(req, res, changed) }));
      } else if (isStatusRefusal(error) && can('edit', contact.status).ok) {
        // The status the page showed allows editing but not what was typed (a number for an inbox contact): said at the field, the input kept.
        await showPage(res, contact, { values: req.body, errors: { customer_number: req.t(error.messageKey) } }, 409);
      } else {
        throw error;
      }
      return undefined;
    }
  }

  /**
   * The postal code against its country's form, once either is changed: a contact stored with an
   * older code (imported, or from before the check) can still have its phone number corrected.
   */
  function addressErrors(req: Request, contact: Contact): FieldErrors {
    const typed = (field: 'postal_code' | 'country') => (typeof req.body[field] === 'string' ? req.body[field].trim() : '');
    const postalCode = typed('postal_code');
    const country = typed('country') || 'DE';
    if (postalCode === (contact.postal_code ?? '') && country === contact.country) return {};
    const mismatch = postalCodeMismatch(postalCode, country);
    return mismatch ? { postal_code: req.t(mismatch) } : {};
  }

  /** A change refused by the capability table (the contact's status forbids it). */
  function isStatusRefusal(error: unknown): error is Conflict {
    return error instanceof Conflict && error.messageKey.startsWith('status.reasons.');
  }

  /**
   * Whether the contact's status is not the one the form was shown with (`status_seen`): changed by
   * someone meanwhile. A form that does not say (a page loaded before the field existed) is taken so too.
   */
  function changedMeanwhile(req: Request, contact: Contact): boolean {
    const seen = req.body.status_seen;
    return typeof seen !== 'string' || seen === '' || seen !== contact.status;
  }

  /** The contact page anew (409), the refusal saying who set which status, placed by `at` where the clerk was typing. */
  async function showStatusRefusal(req: Request, res: Response, id: string, error: Conflict, at: (message: string) => Record<string, unknown>) {
    const current = await loadContact(db, req);
    const actor = await lastStatusActor(db, id);
    const message = req.t('status.refusedMeanwhile', { actor: actor ?? req.t('status.someone'), status: req.t(`status.labels.${current.status}`), reason: req.t(error.messageKey) });
    return showPage(res, current, at(message), 409);
  }

  async function statusDialog(req: Request, res: Response) {
    const contact = await loadContact(db, req);
    const to = StatusChange.shape.to.safeParse(req.query.to);
    if (!to.success) throw new NotFound();
    const verdict = transition(contact.status, to.data);
    if (!verdict.ok) {
      // The page offered this change, so it is out of date (the status was changed meanwhile): shown anew, with why.
      flash(req, res, req.t(verdict.reason), 'error');
      return redirect(req, res, `${res.locals.basePath}/contacts/${contact.id}`);
    }
    const locals = { title: req.t('status.dialog.title'), nav: 'contacts', contact, to: to.data, kind: verdict.kind, ...helpers };
    varyOnHtmx(res);
    if (isHtmx(req)) await renderFragment(res, 'contacts/_status-dialog', locals);
    else await renderPage(res, 'contacts/status', locals);
  }

  async function statusChange(req: Request, res: Response) {
    const id = contactId(req);
    const form = parse(StatusChange, req.body, req.t);
    if (!form.ok) throw new Invalid(form.errors as never);
    let changed: Awaited<ReturnType<typeof changeStatus>>;
    try {
      changed = await changeStatus(db, id, form.data.to as Status, req.user!.id, form.data.from as Status | undefined);
    } catch (error) {
      if (!(error instanceof StatusChangedMeanwhile)) throw error;
      // The page behind the dialog is out of date: it is shown anew, with who changed what.
      const { contact, actor } = error;
      flash(req, res, req.t('status.changedMeanwhile', { actor: actor ?? req.t('status.someone'), name: displayName(contact), status: req.t(`status.labels.${contact.status}`) }), 'error');
      return redirect(req, res, `${res.locals.basePath}/contacts/${id}`);
    }
    const { from, to, contact } = changed;
    flash(req, res, req.t('status.changed', { name: displayName(contact), from: req.t(`status.labels.${from}`), to: req.t(`status.labels.${to}`) }));
    redirect(req, res, `${res.locals.basePath}/contacts/${id}`);
  }

  async function assign(req: Request, res: Response) {
    const contact = await contactOrGone(req, res, () => []);
    if (!contact) return;
    const form = parse(AssignmentInput, req.body, req.t);
    const again = (errors: FieldErrors, status: number) =>
      showPage(res, contact, { assignmentValues: { ...req.body, assignee_ids: [].concat(req.body.assignee_ids ?? []) }, assignmentErrors: errors }, status);
    if (!form.ok) return again(form.errors, 422);
    try {
      const changed = await changeAssignment(db, contact.id, form.data, req.user!.id);
      flash(req, res, req.t(changed ? 'assignment.changed' : 'contacts.unchanged'));
    } catch (error) {
      if (error instanceof Invalid) return again(serviceErrors(req, error), 422);
      if (error instanceof AssignmentChangedMeanwhile) return showPage(res, contact, assignmentConflict(req, error), 409);
      // Archived (say) by a colleague since the page was shown: who did it, at the assignment, the choice kept.
      if (isStatusRefusal(error) && changedMeanwhile(req, contact)) {
        const values = { ...req.body, assignee_ids: [].concat(req.body.assignee_ids ?? []) };
        return showStatusRefusal(req, res, contact.id, error, (message) => ({ assignmentValues: values, assignmentErrors: { seen_assignment: message } }));
      }
      throw error;
    }
    redirect(req, res, `${res.locals.basePath}/contacts/${contact.id}`);
  }

  async function numberField(req: Request, res: Response) {
    const numbering = await createNumbering(req.query.generate === '1');
    await renderFragment(res, 'contacts/_number-field', { idPrefix: 'c-', values: {}, errors: {}, numbering });
  }

  async function number(req: Request, res: Response) {
    const contact = await contactOrGone(req, res, typedMasterData(req, res));
    if (!contact) return;
    // "Nummer erzeugen" sends the master data form along: what was typed there is saved first, not lost.
    const withForm = 'version' in req.body;
    const saved = withForm ? await saveMasterData(req, res, contact) : { changed: false };
    if (!saved) return;
    const back = `${res.locals.basePath}/contacts/${contact.id}`;
    // A number typed by hand was saved with the form: it is the contact's number now, none is generated.
    if (withForm && String(req.body.customer_number ?? '').trim()) {
      flash(req, res, req.t(saved.changed ? 'contacts.saved' : 'contacts.unchanged'));
      return redirect(req, res, back);
    }
    let given: string;
    try {
      given = await generateNumber(db, contact.id, req.user!.id);
    } catch (error) {
      if (!saved.changed || !(error instanceof HttpError)) throw error;
      // The changes are saved even so: both are said, on the contact's page.
      flash(req, res, req.t('contacts.saved'));
      flash(req, res, req.t(error.messageKey, error.params), 'error');
      return redirect(req, res, back);
    }
    flash(req, res, req.t(saved.changed ? 'contacts.number.assignedAndSaved' : 'contacts.number.assigned', { number: given }));
    redirect(req, res, back);
  }

  async function note(req: Request, res: Response) {
    const text = String(req.body.text ?? '');
    const contact = await contactOrGone(req, res, () => (text.trim() ? [{ label: req.t('contacts.history.noteLabel'), text }] : []));
    if (!contact) return;
    const form = parse(NoteInput, req.body, req.t);
    const noteToken = form.ok ? form.data.note_token : undefined;
    if (!form.ok) return showPage(res, contact, { noteValue: req.body.text ?? '', noteError: form.errors.text, noteToken: req.body.note_token }, 422);
    try {
      await addNote(db, contact.id, form.data.text, req.user!.id, noteToken);
    } catch (error) {
      // The note stays in its field.
      if (isStatusRefusal(error) && changedMeanwhile(req, contact)) return showStatusRefusal(req, res, contact.id, error, (noteError) => ({ noteValue: req.body.text, noteError, noteToken }));
      throw error;
    }
    flash(req, res, req.t('contacts.history.noteSaved'));
    redirect(req, res, `${res.locals.basePath}/contacts/${contact.id}#history`);
  }

  async function history(req: Request, res: Response) {
    const contact = await loadContact(db, req);
    const before = ContactId.safeParse(req.query.before);
    const events = await listEvents(db, contact.id, HISTORY_PAGE + 1, before.success ? String(before.data) : undefined);
    const locals = { title: `${req.t('contacts.history.title')}: ${displayName(contact)}`, nav: 'contacts', contact, events: events.slice(0, HISTORY_PAGE), moreEvents: events.length > HISTORY_PAGE, ...helpers };
    // htmx swaps the entries in; opened in a new tab or without JavaScript, they are a page of their own.
    await renderPageOrFragment(req, res, 'contacts/history', 'contacts/_history-items', locals);
  }

  async function picture(req: Request, res: Response) {
    const found = await findPicture(db, contactId(req));
    if (!found) throw new NotFound();
    res.set('Cache-Control', 'private, max-age=31536000, immutable').type(found.content_type).send(found.data);
  }

  /** The picture the page showed (pictureVersion); a form from before the field says nothing. */
  function pictureSeen(req: Request): string | undefined {
    return typeof req.body.picture_seen === 'string' ? req.body.picture_seen : undefined;
  }

  function isPictureChanged(error: unknown): error is Conflict {
    return error instanceof Conflict && error.messageKey === 'contacts.picture.changedMeanwhile';
  }

  async function uploadPicture(req: Request, res: Response) {
    const contact = await loadContact(db, req);
    try {
      if (!req.file) throw new Invalid({ picture: 'contacts.picture.missing' });
      await setPicture(db, contact.id, await processPicture(req.file.buffer), req.user!.id, pictureSeen(req));
    } catch (error) {
      if (error instanceof Invalid) return showPage(res, contact, { pictureError: serviceErrors(req, error).picture }, 422);
      if (isPictureChanged(error)) return showPage(res, contact, { pictureError: req.t(error.messageKey) }, 409);
      throw error;
    }
    flash(req, res, req.t('contacts.picture.saved'));
    redirect(req, res, `${res.locals.basePath}/contacts/${contact.id}`);
  }

  async function removePicture(req: Request, res: Response) {
    const contact = await loadContact(db, req);
    try {
      await setPicture(db, contact.id, null, req.user!.id, pictureSeen(req));
    } catch (error) {
      if (isPictureChanged(error)) return showPage(res, contact, { pictureError: req.t(error.messageKey) }, 409);
      throw error;
    }
    flash(req, res, req.t('contacts.picture.removed'));
    redirect(req, res, `${res.locals.basePath}/contacts/${contact.id}`);
  }

  /**
   * What multer refuses (a file too big, two files, another field's name) is said at the picture field
   * of the contact's page, as any other bad picture: it was a bare error page.
   */
  function pictureField(req: Request, res: Response, next: (error?: unknown) => void) {
    pictureUpload.single('picture')(req, res, (error: unknown) => {
      if (!error) return next();
      const code = (error as { code?: string }).code;
      const tooBig = code === 'LIMIT_FILE_SIZE';
      // Two files, another field's name, too many fields; anything else is a body that does not parse.
      const message = tooBig ? 'contacts.picture.tooBig' : code?.startsWith('LIMIT_') ? 'contacts.picture.one' : 'contacts.picture.invalid';
      // Any failure goes to the error handler: thrown in multer's callback, an unknown id was an
      // unhandled rejection, which stops the process.
      loadContact(db, req)
        .then((contact) => showPage(res, contact, { pictureError: req.t(message) }, tooBig ? 413 : 422))
        .catch(next);
    });
  }

  router.get('/contacts', list);
  router.get('/contacts/new', newDialog);
  router.get('/contacts/number-field', numberField);
  router.post('/contacts', create);
  router.get('/contacts/:id', show);
  router.post('/contacts/:id', update);
  router.get('/contacts/:id/status', statusDialog);
  router.post('/contacts/:id/status', statusChange);
  router.post('/contacts/:id/assignment', assign);
  router.post('/contacts/:id/number', number);
  router.post('/contacts/:id/notes', note);
  router.get('/contacts/:id/history', history);
  router.get('/contacts/:id/picture', picture);
  router.post('/contacts/:id/picture', pictureField, uploadPicture);
  router.post('/contacts/:id/picture/delete', removePicture);
  return router;
}

