import { Router, type Request, type Response } from 'express';
import type { Db } from '../db/knex';
import type { MessageKey, Translate } from '../i18n';
import { requireAdmin } from '../web/auth';
import { Conflict, Invalid, NotFound } from '../web/errors';
import { redirect } from '../web/htmx';
import { flash, pageAddress, renderPage, renderPageOrFragment } from '../web/render';
import { parse, serviceFieldErrors, type FieldErrors } from '../web/validation';
import { findCompetence, listCompetences, memberCandidates, membersOf, type Usage } from './queries';
import { CompetenceId, CompetenceInput, CompetenceSeen, Reassignment } from './schema';
import { CompetenceChanged, createCompetence, deletionCheck, LeftWithoutMembers, reassign, removeCompetence, updateCompetence } from './service';

/** The form's fields as typed, to fill it in again. */
interface CompetenceValues {
  name: string;
  member_ids: string[];
}

function valuesFrom(body: Record<string, unknown> | undefined): CompetenceValues {
  const ids = body?.member_ids;
  return {
    name: typeof body?.name === 'string' ? body.name : '',
    member_ids: (Array.isArray(ids) ? ids : [ids]).filter((v): v is string => typeof v === 'string'),
  };
}


/** "3 Kontakte und 1 Gruppe" (or the dative, "3 Kontakten und einer Gruppe"); parts that are zero are left out. */
function usageText(t: Translate, usage: Pick<Usage, 'contacts' | 'groups'>, dative = false): string {
  const part = (count: number, one: MessageKey, many: MessageKey) => (count === 0 ? [] : [t(count === 1 ? one : many, { count })]);
  const parts = [
    ...part(usage.contacts, dative ? 'competences.usage.contactDative' : 'competences.usage.contact', dative ? 'competences.usage.contactsDative' : 'competences.usage.contacts'),
    ...part(usage.groups, dative ? 'competences.usage.groupDative' : 'competences.usage.group', dative ? 'competences.usage.groupsDative' : 'competences.usage.groups'),
  ];
  return parts.length === 2 ? t('competences.usage.and', { first: parts[0], second: parts[1] }) : (parts[0] ?? '');
}

/** The id in the URL; one that cannot be a competence's is as unknown as a missing one. */
function competenceId(req: Request): string {
  const id = CompetenceId.safeParse(req.params.id);
  if (!id.success) throw new NotFound();
  return id.data;
}

/**
 * Settings → Kompetenzen, mounted at /settings/competences. Admins only,
 * guarded here as well as by the settings area, so the guard travels with the router.
 */
export function competenceRoutes(db: Db): Router {
  const router = Router();
  const listUrl = (res: Response) => `${res.locals.basePath}/settings/competences`;

  const form = async (
    req: Request,
    res: Response,
    locals: { id?: string; values: CompetenceValues; errors?: FieldErrors; seen?: CompetenceSeen; conflict?: string; withoutMembers?: string },
    status = 200,
  ) => {
    const candidates = await memberCandidates(db, locals.id);
    const title = req.t(locals.id ? 'competences.editTitle' : 'competences.new');
    const replaceUrl = pageAddress(res, locals.id ? `/settings/competences/${locals.id}/edit` : '/settings/competences/new');
    await renderPage(res, locals.id ? 'competences/edit' : 'competences/new', { title, nav: 'settings', errors: {}, candidates, replaceUrl, ...locals }, status);
  };

  /** The confirmation: a dialog for htmx, a page of its own without JavaScript; with contacts still assigned, the reassignment form. */
  const confirmation = async (req: Request, res: Response, id: string, status = 200, errors: FieldErrors = {}, to = 'all') => {
    const competence = await deletionCheck(db, id);
    const assigned = competence.usage.contacts + competence.usage.groups > 0;
    const filters = competence.usage.filters ?? [];
    const inUse = assigned || filters.length > 0;
    const refusal = inUse
      ? [
          ...(assigned ? [req.t('competences.deleteRefused', { name: competence.name, usage: usageText(req.t, competence.usage, true) })] : []),
          ...(filters.length ? [req.t('competences.filteredBy', { count: filters.length, name: competence.name, groups: filters.map((g) => `„${g}“`).join(', ') })] : []),
        ].join(' ')
      : undefined;
    const others = inUse ? (await listCompetences(db)).filter((k) => k.id !== id) : [];
    // Held by dynamic groups' filters alone, "Alle Mitarbeiter" would move nothing: only another competence is offered.
    const allowAll = assigned;
    const chosen = allowAll || to !== 'all' ? to : (others[0]?.id ?? '');
    await renderPageOrFragment(
      req,
      res,
      'competences/delete',
      'competences/_delete-dialog',
      { title: req.t('competences.deleteTitle'), nav: 'settings', competence, refusal, others, errors, to: chosen, allowAll, replaceUrl: pageAddress(res, `/settings/competences/${id}/delete`) },
      status,
    );
  };

  router.use(requireAdmin);

  router.get('/', async (req, res) => {
    const competences = await listCompetences(db);
    await renderPage(res, 'competences/index', { title: req.t('competences.title'), nav: 'settings', competences });
  });

  router.get('/new', (req, res) => form(req, res, { values: { name: '', member_ids: [] } }));

  router.post('/', async (req, res) => {
    const values = valuesFrom(req.body);
    const input = parse(CompetenceInput, req.body, req.t);
    if (!input.ok) return form(req, res, { values, errors: input.errors }, 422);
    try {
      await createCompetence(db, input.data);
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      return form(req, res, { values, errors: serviceFieldErrors(error, req.t) }, 422);
    }
    flash(req, res, req.t('competences.created', { name: input.data.name }));
    redirect(req, res, listUrl(res));
  });

  router.get('/:id/edit', async (req, res) => {
    const id = competenceId(req);
    const competence = await findCompetence(db, id);
    if (!competence) throw new NotFound();
    const memberIds = ((await membersOf(db, [id])).get(id) ?? []).map((m) => m.id);
    await form(req, res, { id, values: { name: competence.name, member_ids: memberIds }, seen: { name: competence.name, memberIds } });
  });

  router.post('/:id', async (req, res) => {
    const id = competenceId(req);
    const values = valuesFrom(req.body);
    const seenForm = CompetenceSeen.safeParse(req.body);
    const seen = seenForm.success ? seenForm.data : undefined;
    const input = parse(CompetenceInput, req.body, req.t);
    if (!input.ok) return form(req, res, { id, values, errors: input.errors, seen }, 422);
    try {
      await updateCompetence(db, id, input.data, seen);
    } catch (error) {
      if (error instanceof CompetenceChanged) {
        // The input stays; the form now shows what is saved as its basis, so saving again is deliberate.
        const { current, untouched } = error;
        const names = (await memberCandidates(db, id)).filter((c) => current.memberIds.includes(c.id)).map((c) => c.name);
        const members = names.length ? names.join(', ') : req.t('competences.noMembers');
        // What the admin had left alone shows what is saved now: sent again as it was, it undid the other change.
        const merged = {
          name: untouched.includes('name') ? current.name : values.name,
          member_ids: untouched.includes('memberIds') ? current.memberIds : values.member_ids,
        };
        return form(req, res, { id, values: merged, seen: current, conflict: req.t('competences.changedMeanwhile', { name: current.name, members }) }, 409);
      }
      if (error instanceof LeftWithoutMembers) {
        const withoutMembers = req.t('competences.leftWithoutMembers', { name: input.data.name, usage: usageText(req.t, error.usage, true) });
        return form(req, res, { id, values, seen, withoutMembers }, 409);
      }
      if (!(error instanceof Invalid)) throw error;
      return form(req, res, { id, values, errors: serviceFieldErrors(error, req.t), seen }, 422);
    }
    flash(req, res, req.t('competences.saved', { name: input.data.name }));
    redirect(req, res, listUrl(res));
  });

  router.get('/:id/delete', (req, res) => confirmation(req, res, competenceId(req)));

  router.post('/:id/delete', async (req, res) => {
    const id = competenceId(req);
    try {
      const competence = await removeCompetence(db, id);
      flash(req, res, req.t('competences.deleted', { name: competence.name }));
    } catch (error) {
      // Refused while contacts are assigned: the page says so and offers to move them.
      if (!(error instanceof Conflict)) throw error;
      return confirmation(req, res, id, 409);
    }
    redirect(req, res, listUrl(res));
  });

  /** Moves all of the competence's contacts and groups elsewhere, so that it can be deleted. */
  router.post('/:id/reassignment', async (req, res) => {
    const id = competenceId(req);
    const input = parse(Reassignment, req.body, req.t);
    const to = typeof req.body.to === 'string' ? req.body.to : 'all';
    if (!input.ok) return confirmation(req, res, id, 422, input.errors, to);
    try {
      const { moved, to: destination } = await reassign(db, id, input.data, req.user!.id);
      if (moved.contacts + moved.groups > 0) {
        flash(req, res, req.t('competences.reassigned', { to: destination ?? req.t('assignment.kinds.all'), usage: usageText(req.t, moved) }));
      }
      if (moved.filters > 0) flash(req, res, req.t('competences.filtersMoved', { count: moved.filters, to: destination! }));
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      return confirmation(req, res, id, 422, serviceFieldErrors(error, req.t), to);
    }
    redirect(req, res, `${listUrl(res)}/${id}/delete`);
  });

  return router;
}
