import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type { Db } from '../db/knex';
import { isRecordId, parse, serviceFieldErrors, type FieldErrors, type Parsed } from '../web/validation';
import { flash, flashForNextPage, pageAddress, renderFragment, renderPage } from '../web/render';
import { isHtmx, redirect, trigger } from '../web/htmx';
import { Invalid, NotFound } from '../web/errors';
import { ContactId, ListFilter, ListQuery } from './schema';
import { countForList, findContact, type GroupScope } from './queries';
import { loadListBehindDialog } from './list';
import { clearSelection, currentSelection, saveSelection, isSelected, type Selection } from './selection';
import {
  applicableStatuses,
  breakdown,
  BulkActionName,
  BulkConfirmation,
  BulkSelection,
  bulkArchive,
  bulkAssign,
  bulkDelete,
  confirmedCount,
  confirmedTarget,
  MAX_IDS,
  SelectionChanged,
  selectionSummary,
  targetIds,
  type BulkAction,
  type BulkResult,
  type Target,
} from './bulk';
import { displayName } from './format';
import { listAddress, listQueryString, narrowsList, withListQuery } from './urls';
import { can, statuses, transition } from './status';
import { AssignmentInput } from '../assignment/schema';
import { assignmentOptions, validateAssignment } from '../assignment/queries';
import { findGroupScope } from '../groups/queries';
import { addMembers, createGroup, removeMembers } from '../groups/service';
import { GroupFieldsWithNumbering, TemporaryGroupFields } from '../groups/schema';
import { predictNextNumber, withNumberTransaction } from '../numbers/service';
import type { Knex } from 'knex';
import type { JobQueue } from '../jobs/queue';
import { BACKGROUND_THRESHOLD, createBulkJob, findBulkJob, markNotQueued, type BulkJob } from './bulk-jobs';
import type { Status } from './status';

const helpers = { displayName, listQueryString, narrowsList, isSelected, can, transition, statuses };

/** Form fields (body or query) as the list's query: the filter the selection belongs to. */
function listQueryOf(req: Request, source: Record<string, unknown>): ListQuery {
  const parsed = parse(ListQuery, source, req.t);
  if (!parsed.ok) throw new Invalid({}, 'bulk.staleFilter');
  return parsed.data;
}

/** The bulk "Zuweisen" dialog's choice: none made is an error at the field, not "Alle". */
function chosenAssignment(req: Request): Parsed<AssignmentInput> {
  if (!req.body.assignment) return { ok: false, errors: { assignment: req.t('assignment.invalid.kind') } };
  return parse(AssignmentInput, req.body, req.t);
}

/** What a bulk action did, in one message: done, a group's new number, those unchanged, those skipped and why. */
function resultMessage(req: Request, action: BulkAction, result: BulkResult, { group = '', groupNumber }: { group?: string; groupNumber?: string } = {}): string {
  return [
    req.t(`bulk.done.${action}`, { count: result.affected, group }),
    ...(groupNumber ? [req.t('bulk.groupNumbered', { number: groupNumber })] : []),
    ...(result.unchanged ? [req.t('bulk.unchanged', { count: result.unchanged })] : []),
    ...result.skipped.map((s) => req.t('bulk.skipped', { count: s.count, status: req.t(`status.labels.${s.status}`) })),
  ].join(' ');
}

export function bulkRoutes(db: Db, jobs?: JobQueue): Router {
  const router = Router();

  async function bar(req: Request, res: Response, query: ListQuery, group: GroupScope | undefined, selection: Selection, notice?: string) {
    // Ticking a row needs only whether there is more to select; "Alle … ausgewählt" names the exact number.
    const total = selection.ids.length || selection.all ? await countForList(db, query, { viewerId: req.user!.id, group, exact: selection.all }) : { n: 0, capped: false };
    await renderFragment(res, 'contacts/_bulk-bar', { query, selection, total, group, notice, ...helpers });
  }

  // Ticking rows, a whole page, or every match: the selection lives in the session, keyed by the filter.
  router.post('/contacts/selection', async (req, res) => {
    const query = listQueryOf(req, req.body);
    // A group the employee cannot see (a colleague's temporary one, one deleted meanwhile) has nothing to
    // select; ticks kept for one gone meanwhile can still be cleared.
    const group = query.group ? await findGroupScope(db, query.group, req.user!.id) : undefined;
    if (query.group && !group && req.body.clear !== '1') throw new NotFound('groups.gone');
    const selection = currentSelection(req, query);
    const before = { ids: selection.ids, except: selection.except ?? [] };
    let notice: string | undefined;
    const ticked = new Set(([] as string[]).concat(req.body.ids ?? []));
    // With every match selected, unticking keeps "all but these" (except); ticking again takes one back.
    const mark = (ids: string[], on: boolean) => {
      if (selection.all) selection.except = on ? (selection.except ?? []).filter((id) => !ids.includes(id)) : [...new Set([...(selection.except ?? []), ...ids])];
      else selection.ids = on ? [...new Set([...selection.ids, ...ids])] : selection.ids.filter((id) => !ids.includes(id));
    };
    if (req.body.clear === '1') {
      Object.assign(selection, { ids: [], all: false, except: [] });
      trigger(res, 'selectionChanged', { checked: false });
    } else if (req.body.all === '1') {
      Object.assign(selection, { ids: [], all: true, except: [] });
      trigger(res, 'selectionChanged', { checked: true });
    } else if (typeof req.body.page_ids === 'string') {
      mark(req.body.page_ids.split(',').filter(isRecordId), req.body.page_checked === '1');
    } else if (isRecordId(req.body.toggle)) {
      mark([req.body.toggle], ticked.has(req.body.toggle));
    }
    const listed = selection.all ? (selection.except ?? []) : selection.ids;
    if (listed.length > MAX_IDS) {
      // Past the limit nothing more is taken, and the boxes just changed go back: ticked on screen,
      // 1,000 selected in fact, a bulk action took fewer contacts than the clerk saw.
      const kept = new Set(selection.all ? before.except : before.ids);
      const refused = listed.filter((id) => !kept.has(id));
      if (selection.all) selection.except = before.except;
      else selection.ids = before.ids;
      trigger(res, 'selectionChanged', selection.all ? { reticked: refused } : { unticked: refused });
      notice = req.t(selection.all ? 'bulk.exceptFull' : 'bulk.selectionFull', { max: MAX_IDS });
    }
    saveSelection(req, selection);
    await bar(req, res, query, group, selection, notice);
  });

  /** The target of a bulk request: ids from the form, or the filter with all=1. */
  async function targetOf(req: Request, source: Record<string, unknown>, query: ListQuery): Promise<Target> {
    const selection = BulkSelection.safeParse(source);
    if (!selection.success) throw new Invalid({}, 'bulk.tooManyIds');
    if (selection.data.all === '1') {
      const group = query.group ? await findGroupScope(db, query.group, req.user!.id) : undefined;
      if (query.group && !group) throw new NotFound('groups.gone');
      return { kind: 'filter', filter: ListFilter.parse(query), group, viewerId: req.user!.id, except: selection.data.except };
    }
    if (!selection.data.ids.length) throw new Invalid({}, 'bulk.empty');
    return { kind: 'ids', ids: selection.data.ids };
  }

  async function dialog(req: Request, res: Response, action: BulkAction, query: ListQuery, target: Target, extra: Record<string, unknown> = {}, status = 200) {
    const [{ counts, fingerprint }, options, groups, current, predicted] = await Promise.all([
      selectionSummary(db, target),
      action === 'assign' || action === 'new_group' ? assignmentOptions(db) : undefined,
      action === 'add_to_group' ? groupsToAddTo(req.user!.id, query.group) : undefined,
      query.group ? findGroupScope(db, query.group, req.user!.id) : undefined,
      // "Nummer erzeugen", as in the sidebar's "Neue Gruppe", when the groups have a default circle.
      action === 'new_group' ? predictNextNumber(db, 'groups') : undefined,
    ]);
    const applicable = applicableStatuses(action);
    const locals = {
      title: req.t(`bulk.actions.${action}`),
      action,
      query,
      target,
      counts,
      applicableCount: applicable.reduce((sum, s) => sum + counts[s], 0),
      fingerprint,
      changed: false,
      skipped: statuses.filter((s) => !applicable.includes(s) && counts[s] > 0),
      options,
      groups,
      groupName: current?.name,
      predicted,
      // "Zuweisen" starts with no kind chosen: one press on "Ausführen" replaced every contact's assignment with "Alle".
      // "Zur Gruppe hinzufügen" starts with no group: the one shown was chosen, and adding its members to it did nothing.
      values: { assignment: action === 'assign' ? '' : 'all', group_id: '', create_token: randomUUID() },
      errors: {},
      ...helpers,
      ...extra,
    };
    if (isHtmx(req)) await renderFragment(res, 'contacts/_bulk-dialog', locals, status);
    else {
      await renderPage(res, 'contacts/bulk', { ...locals, replaceUrl: pageAddress(res, withListQuery(`/contacts/bulk?action=${action}`, query)) }, status);
    }
  }

  // The confirmation, naming the count and what will be skipped; built from the selection in the session.
  router.get('/contacts/bulk', async (req, res) => {
    const action = parse(BulkActionName, req.query, req.t);
    if (!action.ok) throw new Invalid({}, 'bulk.unknownAction');
    const query = listQueryOf(req, req.query);
    const selection = currentSelection(req, query);
    const target = await targetOf(req, { all: selection.all ? '1' : undefined, ids: selection.ids, except: selection.except }, query);
    await dialog(req, res, action.data.action, query, target);
  });

  router.post('/contacts/bulk', async (req, res) => {
    const action = parse(BulkActionName, req.body, req.t);
    if (!action.ok) throw new Invalid({}, 'bulk.unknownAction');
    const query = listQueryOf(req, req.body);
    const target = await targetOf(req, req.body, query);
    const name = action.data.action;
    // "Alle Treffer": only the set that was confirmed, checked in the action's own transaction (confirmedTarget).
    // Changed meanwhile, nothing is done and the dialog shows it anew, the clerk's choices kept.
    const { confirmed } = BulkConfirmation.parse(req.body);
    const changedMeanwhile = () => {
      // The list behind the dialog reads itself anew too (the filter form listens): it showed the old count.
      trigger(res, 'listChanged');
      const extra = { values: { ...req.body, assignment: req.body.assignment ?? '' }, changed: true, changedFrom: confirmedCount(confirmed) };
      return dialog(req, res, name, query, target, extra, 409);
    };
    if (target.kind === 'filter' && confirmed === undefined) return changedMeanwhile();
    // Big "all matching" archive, assign and delete go to the background.
    const mayQueue = jobs && target.kind === 'filter' && (name === 'archive' || name === 'assign' || name === 'delete');
    let result: BulkResult;
    let groupName = '';
    let groupNumber: string | undefined;
    let duplicate = false;
    try {
      if (mayQueue && (await breakdown(db, target)).total > BACKGROUND_THRESHOLD) return await runInBackground(req, res, name, target, query, confirmed);
      if (name === 'assign') {
        const assignment = chosenAssignment(req);
        if (!assignment.ok) return dialog(req, res, name, query, target, { values: { ...req.body, assignment: req.body.assignment ?? '' }, errors: assignment.errors }, 422);
        try {
          result = await db.transaction(async (trx) => bulkAssign(trx, await confirmedTarget(trx, target, confirmed), assignment.data, req.user!.id));
        } catch (error) {
          if (!(error instanceof Invalid)) throw error;
          return dialog(req, res, name, query, target, { values: req.body, errors: serviceFieldErrors(error, req.t) }, 422);
        }
      } else if (name === 'archive') {
        result = await db.transaction(async (trx) => bulkArchive(trx, await confirmedTarget(trx, target, confirmed), req.user!.id));
      } else if (name === 'delete') {
        result = await db.transaction(async (trx) => bulkDelete(trx, await confirmedTarget(trx, target, confirmed), req.user!.id));
      } else {
        const outcome = await groupAction(req, name, query, target, confirmed);
        if ('errors' in outcome) return dialog(req, res, name, query, target, { values: req.body, errors: outcome.errors }, 422);
        result = outcome.result;
        groupName = outcome.groupName;
        groupNumber = outcome.groupNumber;
        duplicate = outcome.duplicate ?? false;
      }
    } catch (error) {
      if (error instanceof SelectionChanged) return changedMeanwhile();
      throw error;
    }
    const message = duplicate ? req.t('bulk.groupMadeAlready', { group: groupName }) : resultMessage(req, name, result, { group: groupName, groupNumber });
    clearSelection(req);
    flash(req, res, message);
    if (!isHtmx(req)) return redirect(req, res, `${res.locals.basePath}/contacts${listQueryString(query, { after: undefined, before: undefined, last: undefined })}`);
    const locals = await loadListBehindDialog(db, req);
    res.set('HX-Retarget', '#results').set('HX-Reswap', 'innerHTML');
    trigger(res, 'closeDialog');
    trigger(res, 'selectionChanged', { checked: false });
    // Member counts changed (or a group was made): the sidebar reloads itself on this event.
    if (['new_group', 'temporary_group', 'add_to_group', 'remove_from_group', 'archive', 'delete'].includes(name)) trigger(res, 'groupsChanged');
    await renderFragment(res, 'contacts/_results', { ...locals, ...helpers });
  });

  /** Static groups and the employee's own temporary ones, but the one shown: where "Zur Gruppe hinzufügen" can put contacts. */
  async function groupsToAddTo(viewerId: string, shown: string | undefined) {
    const query = db('groups')
      .select('id', 'name', 'kind')
      .where((w) => w.where('kind', 'static').orWhere((t) => t.where({ kind: 'temporary', owner_id: viewerId }).andWhere('expires_at', '>', db.fn.now())))
      .orderBy('name');
    if (shown) query.whereNot('id', shown);
    const rows: { id: string; name: string; kind: string }[] = await query;
    return rows.map((g) => ({ id: String(g.id), name: g.name, kind: g.kind }));
  }

  /**
   * The group actions of the bar: a new (or temporary) group from the selection,
   * adding to a group, removing from the group shown. One transaction each; the
   * group service skips contacts whose status does not allow groups.
   */
  async function groupAction(
    req: Request,
    name: BulkAction,
    query: ListQuery,
    target: Target,
    confirmed: string | undefined,
  ): Promise<{ result: BulkResult; groupName: string; groupNumber?: string; duplicate?: boolean } | { errors: FieldErrors }> {
    const actorId = req.user!.id;
    // The set confirmed, fixed in the group's transaction (a query builder is awaited as its rows: the ids' query is built after).
    const fixed = (trx: Knex.Transaction) => confirmedTarget(trx, target, confirmed);
    try {
      if (name === 'new_group' || name === 'temporary_group') {
        let assignment: AssignmentInput = { kind: 'all', userIds: [], competenceId: undefined };
        let fields: { name: string | null; group_number: string | null; generateNumber?: boolean } = { name: null, group_number: null };
        if (name === 'new_group') {
          // The same rules as the "Neue Gruppe" dialog and the group page (a name over 100 characters
          // was cut at 200 here, and the group page then refused to save it unchanged).
          const parsed = parse(AssignmentInput, req.body, req.t);
          const group = parse(GroupFieldsWithNumbering, req.body, req.t);
          if (!parsed.ok || !group.ok) return { errors: { ...(group.ok ? {} : group.errors), ...(parsed.ok ? {} : parsed.errors) } };
          assignment = parsed.data;
          fields = { name: group.data.name, group_number: group.data.group_number, generateNumber: group.data.generate_number };
        } else {
          // The dialog asks for a name here too; it was dropped for "Temporär 06.12. 16:46".
          const temporary = parse(TemporaryGroupFields, req.body, req.t);
          if (!temporary.ok) return { errors: temporary.errors };
          fields = { name: temporary.data.name ?? null, group_number: null };
        }
        // With "Nummer erzeugen" the whole of it runs again when the number was taken meanwhile
        // or the circle's lock timed out (createGroup in a caller's transaction leaves that to it).
        // The dialog's token: sent twice (a double click without JavaScript, Back and again), one group.
        const token = BulkConfirmation.parse(req.body).create_token;
        return await withNumberTransaction(db, async (trx) => {
          const group = await createGroup(trx, {
            ...fields,
            kind: name === 'new_group' ? 'static' : 'temporary',
            assignment,
            actorId,
            createToken: token,
          });
          const row = await trx('groups').select('name').where({ id: group.id }).first();
          if (group.duplicate) return { result: { affected: 0, skipped: [] }, groupName: row.name, duplicate: true };
          const added = await addMembers(trx, group.id, targetIds(trx, await fixed(trx)), actorId);
          // A generated number is named: it may differ from the one the dialog expected.
          return { result: { affected: added.added, skipped: added.skipped }, groupName: row.name, groupNumber: fields.generateNumber ? (group.group_number ?? undefined) : undefined };
        });
      }
      const groupId = name === 'add_to_group' ? String(req.body.group_id ?? '') : (query.group ?? '');
      if (!isRecordId(groupId)) return { errors: { group_id: req.t('bulk.groupMissing') } };
      return await db.transaction(async (trx) => {
        const group = await trx('groups').select('name').where({ id: groupId }).first();
        if (!group) throw new NotFound('groups.gone');
        if (name === 'add_to_group') {
          const added = await addMembers(trx, groupId, targetIds(trx, await fixed(trx)), actorId);
          return { result: { affected: added.added, skipped: added.skipped }, groupName: group.name };
        }
        const removed = await removeMembers(trx, groupId, targetIds(trx, await fixed(trx)), actorId);
        return { result: { affected: removed.removed, skipped: [] }, groupName: group.name };
      });
    } catch (error) {
      if (error instanceof Invalid && Object.keys(error.fieldErrors).length) return { errors: serviceFieldErrors(error, req.t) };
      throw error;
    }
  }

  /** Big "all matching" selections: the job is queued and the dialog shows its progress until it is done. */
  async function runInBackground(req: Request, res: Response, name: BulkAction, target: Target, query: ListQuery, confirmed: string | undefined) {
    let params: Record<string, unknown> = {};
    if (name === 'assign') {
      const assignment = chosenAssignment(req);
      if (!assignment.ok) return dialog(req, res, name, query, target, { values: { ...req.body, assignment: req.body.assignment ?? '' }, errors: assignment.errors }, 422);
      // Checked now, as for a few contacts: queued, an unknown or deactivated employee only failed in the background.
      try {
        await validateAssignment(db, assignment.data);
      } catch (error) {
        if (error instanceof Invalid) return dialog(req, res, name, query, target, { values: req.body, errors: serviceFieldErrors(error, req.t) }, 422);
        throw error;
      }
      params = { assignment: req.body.assignment, assignee_ids: req.body.assignee_ids, competence_id: req.body.competence_id };
    }
    const jobId = await createBulkJob(db, name, params, target, req.user!.id, confirmed);
    try {
      await jobs!.enqueueBulk(jobId);
    } catch (error) {
      // Not handed to the queue (PostgreSQL gone for a moment): nothing was done, and the job must not wait as
      // "queued" for ever. The clerk gets the error and may try again; the selection stays.
      await markNotQueued(db, jobId).catch(() => undefined);
      throw error;
    }
    clearSelection(req);
    trigger(res, 'selectionChanged', { checked: false });
    const job = await findBulkJob(db, jobId, req.user!.id);
    const locals = { title: req.t(`bulk.actions.${job.action}`), job };
    if (isHtmx(req)) await renderFragment(res, 'contacts/_job-dialog', locals, 202);
    else redirect(req, res, `${res.locals.basePath}/jobs/${jobId}`);
  }

  async function progress(req: Request, res: Response, job: BulkJob) {
    if (job.state === 'done') {
      const skipped = Object.entries(job.result.skipped ?? {})
        .filter(([, n]) => n)
        .map(([status, count]) => ({ status: status as Status, count: count! }));
      const message = resultMessage(req, job.action, { affected: job.result.affected ?? 0, unchanged: job.result.unchanged, skipped });
      // For the page that comes next: htmx reloads it at once, and a message triggered now went with the old one.
      flashForNextPage(req, message);
      if (isHtmx(req)) {
        // The list behind the dialog is out of date as a whole: reload it, with the message.
        res.set('HX-Refresh', 'true');
        return res.status(204).end();
      }
      return redirect(req, res, `${res.locals.basePath}/contacts`);
    }
    const locals = { title: req.t(`bulk.actions.${job.action}`), job };
    if (isHtmx(req)) await renderFragment(res, 'contacts/_job-progress', locals);
    else await renderPage(res, 'contacts/job', locals);
  }

  router.get('/jobs/:id', async (req, res) => {
    const id = ContactId.safeParse(req.params.id);
    if (!id.success) throw new NotFound();
    await progress(req, res, await findBulkJob(db, String(id.data), req.user!.id));
  });

  // Deleting one contact from its master data page: the same permanent deletion, audit log included.
  router.get('/contacts/:id/delete', async (req, res) => {
    const id = ContactId.safeParse(req.params.id);
    const contact = id.success ? await findContact(db, String(id.data)) : undefined;
    if (!contact) throw new NotFound();
    const locals = { title: req.t('bulk.deleteOne'), contact, ...helpers };
    if (isHtmx(req)) await renderFragment(res, 'contacts/_delete-dialog', locals);
    else await renderPage(res, 'contacts/delete', locals);
  });

  router.post('/contacts/:id/delete', async (req, res) => {
    const id = ContactId.safeParse(req.params.id);
    const contact = id.success ? await findContact(db, String(id.data)) : undefined;
    if (!contact) throw new NotFound();
    await db.transaction((trx) => bulkDelete(trx, { kind: 'ids', ids: [contact.id] }, req.user!.id));
    flash(req, res, req.t('bulk.deletedOne', { name: displayName(contact) }));
    redirect(req, res, listAddress(req.body.list, res.locals.basePath as string));
  });

  return router;
}

