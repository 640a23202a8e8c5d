import type { Db } from '../db/knex';
import { createGroup } from '../groups/service';
import { findGroupScope } from '../groups/queries';
import { summaryContacts, type SummaryAction } from './queries';

/**
 * Opens a summary ("Sabine Schröder hat 89 Kontakte archiviert") as the
 * employee's temporary group of exactly the contacts it counted for him or
 * her, named `name`: the list then shows those 89, whatever their status, and
 * the bulk actions work on them. The group is written on the notification,
 * so opening it again (or twice at once) finds it while it lasts (24 hours,
 * or until logout). Undefined for a notification that is no summary of a
 * recorded action (one written before actions were), and when none of its
 * contacts is left to show (deleted since, or no longer the employee's).
 */
export async function openSummary(db: Db, notificationId: string, userId: string, name: string): Promise<string | undefined> {
  return db.transaction(async (trx) => {
    const action: (SummaryAction & { group_id: string | null }) | undefined = await trx('notifications as n')
      .join('contact_events as e', 'e.id', 'n.event_id')
      .select('n.event_id', 'n.last_event_id', 'n.group_id', 'e.kind', 'e.actor_id')
      .where({ 'n.id': notificationId, 'n.user_id': userId })
      .whereNotNull('n.last_event_id')
      // Opened twice at once (a double click), the second waits here and finds the first one's group.
      .forUpdate('n')
      .first();
    if (!action) return undefined;
    if (action.group_id && (await findGroupScope(trx, String(action.group_id), userId))) return String(action.group_id);
    const group = await createGroup(trx, { name, kind: 'temporary', assignment: { kind: 'all', userIds: [], competenceId: undefined }, actorId: userId });
    const { rowCount } = await trx.raw('insert into group_members (group_id, contact_id) select ?, contact_id from (?) s', [group.id, summaryContacts(trx, action, userId)]);
    if (!rowCount) {
      await trx('groups').where({ id: group.id }).delete();
      return undefined;
    }
    await trx('notifications').where({ id: notificationId }).update({ group_id: group.id });
    return group.id;
  });
}
