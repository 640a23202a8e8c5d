import type { Db } from '../db/knex';
import { statuses } from '../contacts/status';
import { createGroup } from '../groups/service';
import { findGroupScope, insertMembers } from '../groups/queries';
import { summaryContacts, type SummaryAction } from './queries';

/** The group a summary opened as: made now, with how many contacts, or found as made before. */
type OpenedSummary = { groupId: string; made: true; members: number } | { groupId: string; made: false };

/**
 * Opens a summary ("Sabine Schröder hat 89 Kontakte archiviert") as the
 * employee's temporary group of its action's contacts that concern him or her
 * (summaryContacts), named `name`: the list then shows them, whatever their
 * status, and the bulk actions work on them. The group is written on the
 * notification, so opening it again (or twice at once) finds it while it is
 * still the employee's temporary group (24 hours, or until logout; made
 * permanent, it is everybody's and may hold others since). Undefined for a
 * notification that is no summary of a recorded action (one written before
 * actions were), and when none of its contacts is left to show (deleted
 * since, or no longer the employee's).
 */
export async function openSummary(db: Db, notificationId: string, userId: string, name: string): Promise<OpenedSummary | undefined> {
  return db.transaction(async (trx) => {
    const action: (SummaryAction & { group_id: string | null }) | undefined = await trx('notifications as n')
      .join('contact_events as e', 'e.id', 'n.event_id')
      .select('n.event_id', 'n.action_first_event_id', 'n.action_last_event_id', 'n.group_id', 'e.kind', 'e.actor_id')
      .where({ 'n.id': notificationId, 'n.user_id': userId })
      .whereNotNull('n.action_last_event_id')
      // Opened twice at once (a double click), the second waits here and finds the first one's group.
      .forUpdate('n')
      .first();
    if (!action) return undefined;
    const kept = action.group_id ? await findGroupScope(trx, String(action.group_id), userId) : undefined;
    if (kept?.kind === 'temporary') return { groupId: kept.id, made: false };
    const contacts = await summaryContacts(trx, action, userId);
    if (!contacts.length) return undefined;
    const group = await createGroup(trx, { name, kind: 'temporary', assignment: { kind: 'all', userIds: [], competenceId: undefined }, actorId: userId });
    // Whatever their status: archived ones too, as the action left them (a temporary group's members are no history).
    await insertMembers(trx, { id: group.id, name, kind: 'temporary' }, contacts, [...statuses], userId);
    await trx('notifications').where({ id: notificationId }).update({ group_id: group.id });
    return { groupId: group.id, members: contacts.length, made: true };
  });
}
