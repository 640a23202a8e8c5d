import { randomUUID } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Db } from '../db/knex';
import { batchRead } from '../db/batch';
import { parse, serviceFieldErrors, type FieldErrors } from '../web/validation';
import { deferLocal, flash, pageAddress, sayOnPage, renderFragment, renderPage, renderPageOrFragment } from '../web/render';
import { isHtmx, redirect, varyOnHtmx } from '../web/htmx';
import { Conflict, Invalid, NotFound } from '../web/errors';
import { toLocalPath } from '../web/auth';
import { ListFilter, ListQuery, effectiveStatuses } from '../contacts/schema';
import { listQueryString, withListQuery } from '../contacts/urls';
import { AssignmentInput } from '../assignment/schema';
import { AssignmentChangedMeanwhile, assignmentOptions, loadAssignments } from '../assignment/queries';
import { assignmentConflict, assignmentValuesOf } from '../assignment/form';
import { countDynamicGroups, countMembers, countUnkeepableMembers, findGroup, groupTarget, listGroupsForSidebar, sidebarGroupsQuery, toSidebarGroups, type Group } from './queries';
import { GroupCreate, GroupId, GroupUpdate, NewGroupKind } from './schema';
import { changeGroupAssignment, createDynamicGroup, GroupChangedMeanwhile, createGroup, deleteGroup, keepGroup, updateGroup, type CreatedGroup } from './service';
import { predictNextNumber } from '../numbers/service';

/** What every groups view may call. */
const helpers = { effectiveStatuses, listQueryString };

const numberFormats = { de: new Intl.NumberFormat('de-DE'), en: new Intl.NumberFormat('en-GB') };

/** Member counts as the language writes them (1.234 / 1,234); one formatter, since the sidebar formats 200 of them. */
function formatCount(req: Request): (count: number) => string {
  const format = numberFormats[req.language];
  return (count) => format.format(count);
}

function groupId(req: Request): string {
  const id = GroupId.safeParse(req.params.id);
  if (!id.success) throw new NotFound('groups.gone');
  return id.data;
}

/** Field messages of an Invalid from the service, translated; a taken number names the group holding it. */
function serviceErrors(req: Request, error: Invalid): FieldErrors {
  const errors = serviceFieldErrors(error, req.t);
  if (errors.filter) errors._form = errors.filter;
  return errors;
}

/** The contacts list the dialog was opened from, so that it comes back as it was; the plain list otherwise. */
function listUrl(req: Request, res: Response): string {
  const base = res.locals.basePath as string;
  const current = isHtmx(req) ? toLocalPath(req.get('HX-Current-URL') ?? '') : '';
  return current.startsWith(`${base}/contacts`) && !current.startsWith(`${base}/contacts/`) ? current : `${base}/contacts`;
}

export function groupRoutes(db: Db): Router {
  const router = Router();

  /** "Neue Gruppe" or "Als dynamische Gruppe speichern": a dialog for htmx, a page without JavaScript. */
  async function dialog(req: Request, res: Response, locals: { values: Record<string, unknown>; filter?: ListFilter; errors: FieldErrors }, status = 200) {
    const dynamic = locals.values.kind === 'dynamic';
    const title = req.t(dynamic ? 'groups.dynamicDialogTitle' : 'groups.dialogTitle');
    const [options, predicted] = await Promise.all([assignmentOptions(db), predictNextNumber(db, 'groups')]);
    const all = { title, nav: 'contacts', dynamic, filterInvalid: dynamic && !locals.filter, options, predicted, ...helpers, ...locals };
    varyOnHtmx(res);
    if (isHtmx(req)) await renderFragment(res, 'groups/_create-dialog', all, status);
    else {
      // A dynamic group's page is asked for with the list's filter (newDialog).
      const address = dynamic ? withListQuery('/groups/new?kind=dynamic', locals.filter ?? {}) : '/groups/new';
      await renderPage(res, 'groups/new', { ...all, replaceUrl: pageAddress(res, address) }, status);
    }
  }

  async function newDialog(req: Request, res: Response) {
    const kind = NewGroupKind.parse(req.query.kind);
    const values = { kind, assignment: 'all', create_token: randomUUID() };
    if (kind === 'static') return dialog(req, res, { values, errors: {} });
    // The list's current filter, from its own query string: group, sort and page are not part of it.
    const filter = ListFilter.safeParse(req.query);
    if (!filter.success) return dialog(req, res, { values, errors: { _form: req.t('groups.invalidFilter') } }, 422);
    await dialog(req, res, { values, filter: filter.data, errors: {} });
  }

  async function create(req: Request, res: Response) {
    const kind = req.body.kind === 'dynamic' ? 'dynamic' : 'static';
    const filter = kind === 'dynamic' ? ListFilter.safeParse(req.body) : undefined;
    const values = { ...req.body, kind, assignee_ids: [].concat(req.body.assignee_ids ?? []), create_token: req.body.create_token || randomUUID() };
    const again = (errors: FieldErrors) => dialog(req, res, { values, filter: filter?.success ? filter.data : undefined, errors }, 422);
    const form = parse(GroupCreate, req.body, req.t);
    const assignment = parse(AssignmentInput, req.body, req.t);
    if (filter && !filter.success) return again({ _form: req.t('groups.invalidFilter') });
    if (!form.ok || !assignment.ok) return again({ ...(form.ok ? {} : form.errors), ...(assignment.ok ? {} : assignment.errors) });
    const { name, group_number, generate_number: generateNumber, create_token: createToken } = form.data;
    const common = { name, group_number, generateNumber, assignment: assignment.data, actorId: req.user!.id, createToken };
    let created: CreatedGroup;
    try {
      created = filter?.success ? await createDynamicGroup(db, { ...common, filter: filter.data }) : await createGroup(db, { ...common, kind: 'static' });
    } catch (error) {
      if (error instanceof Invalid) return again(serviceErrors(req, error));
      throw error;
    }
    // A generated number may differ from the one the dialog predicted: the message says which it is.
    flash(req, res, generateNumber && created.group_number ? req.t('groups.createdWithNumber', { name, number: created.group_number }) : req.t('groups.created', { name }));
    // A dynamic group shows its members at once; a new static group appears in the sidebar of the list it was made from.
    redirect(req, res, filter ? `${res.locals.basePath}/contacts?group=${created.id}` : listUrl(req, res));
  }

  /**
   * The contacts list's full page shows the group sidebar: its groups are
   * loaded from here, beside the list's own queries (deferLocal), in one statement with the
   * layout's notification count (batchRead).
   */
  async function sidebarLocals(req: Request, res: Response, next: NextFunction) {
    if (!isHtmx(req)) {
      deferLocal(res, 'sidebarGroups', batchRead(res, db, sidebarGroupsQuery(db, req.user!.id)).then(toSidebarGroups));
      res.locals.formatCount = formatCount(req);
    }
    next();
  }

  /** The sidebar on its own, for `groupsChanged` (a bulk action made, filled or emptied a group): links keep the list's filter. */
  async function sidebar(req: Request, res: Response) {
    const query = ListQuery.safeParse(req.query);
    const sidebarGroups = await listGroupsForSidebar(db, req.user!.id);
    await renderFragment(res, 'groups/_sidebar', { sidebarGroups, query: query.success ? query.data : {}, formatCount: formatCount(req), ...helpers });
  }

  /** The live counts of the dynamic groups, as out-of-band swaps into the sidebar: one statement for all of them. */
  async function counts(req: Request, res: Response) {
    const counted = await countDynamicGroups(db, req.user!.id);
    await renderFragment(res, 'groups/_counts', { counts: counted, formatCount: formatCount(req) });
  }

  async function loadGroup(req: Request): Promise<Group> {
    const group = await findGroup(db, groupId(req), req.user!.id);
    if (!group) throw new NotFound('groups.gone');
    return group;
  }

  async function showPage(req: Request, res: Response, group: Group, extra: Record<string, unknown> = {}, status = 200) {
    const [assignments, options, members, predicted, unkeepable] = await Promise.all([
      loadAssignments(db, groupTarget, [group.id]),
      assignmentOptions(db),
      countMembers(db, group, req.user!.id),
      // "Nummer erzeugen" is offered while the group has no number.
      group.group_number ? undefined : predictNextNumber(db, 'groups'),
      group.kind === 'temporary' ? countUnkeepableMembers(db, group.id) : 0,
    ]);
    const assignment = assignments.get(group.id)!;
    await renderPage(
      res,
      'groups/show',
      {
        title: group.name,
        nav: 'contacts',
        group,
        members,
        values: group,
        errors: {},
        assignment,
        assignmentValues: assignmentValuesOf(assignment),
        assignmentErrors: {},
        options,
        predicted,
        unkeepable,
        replaceUrl: pageAddress(res, `/groups/${group.id}`),
        ...helpers,
        ...extra,
      },
      status,
    );
  }

  async function show(req: Request, res: Response) {
    await showPage(req, res, await loadGroup(req));
  }

  async function update(req: Request, res: Response) {
    const group = await loadGroup(req);
    const form = parse(GroupUpdate, req.body, req.t);
    if (!form.ok) return showPage(req, res, group, { values: req.body, errors: form.errors }, 422);
    const { generate_number: generateNumber, seen_name, seen_group_number, ...fields } = form.data;
    const seen = seen_name === undefined ? undefined : { name: seen_name, group_number: seen_group_number || null };
    try {
      const { group: saved, changed } = await updateGroup(db, group.id, { ...fields, generateNumber, seen }, req.user!.id);
      const message = !changed
        ? req.t('contacts.unchanged')
        : generateNumber
          ? req.t('groups.savedWithNumber', { name: saved.name, number: saved.group_number ?? '' })
          : req.t('groups.saved', { name: saved.name });
      flash(req, res, message);
    } catch (error) {
      if (error instanceof Invalid) return showPage(req, res, group, { values: req.body, errors: serviceErrors(req, error) }, 422);
      // Someone renamed or renumbered it meanwhile: their values are named, the typed ones kept; saving again overwrites knowingly.
      if (error instanceof GroupChangedMeanwhile) {
        const conflict = req.t(error.messageKey, error.params);
        return showPage(req, res, { ...group, ...error.current }, { values: req.body, errors: {}, conflict }, 409);
      }
      throw error;
    }
    redirect(req, res, `${res.locals.basePath}/groups/${group.id}`);
  }

  async function assign(req: Request, res: Response) {
    const group = await loadGroup(req);
    const form = parse(AssignmentInput, req.body, req.t);
    const again = (errors: FieldErrors) =>
      showPage(req, res, group, { assignmentValues: { ...req.body, assignee_ids: [].concat(req.body.assignee_ids ?? []) }, assignmentErrors: errors }, 422);
    if (!form.ok) return again(form.errors);
    try {
      const changed = await changeGroupAssignment(db, group.id, form.data, req.user!.id);
      flash(req, res, req.t(changed ? 'assignment.changed' : 'contacts.unchanged'));
    } catch (error) {
      if (error instanceof Invalid) return again(serviceErrors(req, error));
      if (error instanceof AssignmentChangedMeanwhile) return showPage(req, res, group, assignmentConflict(req, error), 409);
      if (error instanceof Conflict && error.messageKey === 'groups.temporaryAssignment') {
        sayOnPage(res, req.t(error.messageKey));
        return showPage(req, res, group, {}, 409);
      }
      throw error;
    }
    redirect(req, res, `${res.locals.basePath}/groups/${group.id}`);
  }

  async function deleteDialog(req: Request, res: Response) {
    const group = await loadGroup(req);
    await renderPageOrFragment(req, res, 'groups/delete', 'groups/_delete-dialog', { title: req.t('groups.deleteTitle'), nav: 'contacts', group });
  }

  async function remove(req: Request, res: Response) {
    const group = await deleteGroup(db, groupId(req), req.user!.id);
    flash(req, res, req.t('groups.deleted', { name: group.name }));
    redirect(req, res, `${res.locals.basePath}/contacts`);
  }

  async function keep(req: Request, res: Response) {
    try {
      const group = await keepGroup(db, groupId(req), req.user!.id);
      flash(req, res, req.t('groups.kept', { name: group.name }));
    } catch (error) {
      // A summary's group holding archived or inbox contacts (its page does not offer this; one open from before did): the page, saying why.
      if (!(error instanceof Conflict) || error.messageKey !== 'groups.keepUngroupable') throw error;
      flash(req, res, req.t(error.messageKey, error.params), 'error');
    }
    redirect(req, res, `${res.locals.basePath}/groups/${groupId(req)}`);
  }

  router.get('/contacts', sidebarLocals);
  router.get('/groups/sidebar', sidebar);
  router.get('/groups/new', newDialog);
  router.post('/groups', create);
  router.get('/groups/counts', counts);
  router.get('/groups/:id', show);
  router.post('/groups/:id', update);
  router.post('/groups/:id/assignment', assign);
  router.get('/groups/:id/delete', deleteDialog);
  router.post('/groups/:id/delete', remove);
  router.post('/groups/:id/keep', keep);
  return router;
}
