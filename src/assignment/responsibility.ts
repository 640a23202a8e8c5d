import type { Knex } from 'knex';

/**
 * "Responsible for a contact" (SPEC §5), defined once: directly assigned, a
 * member of the assigned competence, or the contact is assigned to all.
 * `alias` is the contacts table's alias in the surrounding query; `user` is a
 * value or a column reference (e.g. knex.ref('u.id')).
 */
export function whereResponsible(query: Knex.QueryBuilder, knex: Knex, user: string | Knex.Ref<string, object>, alias = 'c'): Knex.QueryBuilder {
  return query.where((w) =>
    w
      .where(`${alias}.assignment`, 'all')
      .orWhereExists(knex.select(knex.raw('1')).from('contact_assignees as ra').whereRaw(`ra.contact_id = ${alias}.id`).andWhere('ra.user_id', user))
      .orWhereExists(
        knex.select(knex.raw('1')).from('competence_members as rm').whereRaw(`rm.competence_id = ${alias}.competence_id`).andWhere('rm.user_id', user),
      ),
  );
}

/**
 * whereResponsible's rule as three disjoint conditions, one per kind of
 * assignment: to all, by name, to one of the employee's competences. A contact
 * has exactly one kind, names only when assigned by name (saveAssignment) and
 * a competence only when assigned to one (check contacts_assignment_competence),
 * so `base()` narrowed by each part, the three put together (`(a) union all
 * (b) union all (c)`, to select from), is what whereResponsible selects, each
 * contact once. PostgreSQL finds each part through an index of its own; the
 * OR of the three it can only test contact by contact. The start page reads a
 * few contacts' events through it (src/dashboard/queries.ts); counts take the
 * part for all from the kept counts and the rest from ownContactsUnion.
 * `base()` should narrow by status: the status index is how the part for all
 * is found.
 */
export function responsibleUnion(base: () => Knex.QueryBuilder, knex: Knex, user: string, alias = 'c'): Knex.Raw {
  return unionAll(knex, [base().where(`${alias}.assignment`, 'all'), ...ownParts(base, knex, user, alias)]);
}

/**
 * responsibleUnion without the part for all: the employee's own contacts, by
 * name or by competence. Whoever counts adds the contacts for all from the
 * kept counts (statusCountQuery with `forAll`).
 */
export function ownContactsUnion(base: () => Knex.QueryBuilder, knex: Knex, user: string, alias = 'c'): Knex.Raw {
  return unionAll(knex, ownParts(base, knex, user, alias));
}

function ownParts(base: () => Knex.QueryBuilder, knex: Knex, user: string, alias: string): Knex.QueryBuilder[] {
  const competences = knex('competence_members').select('competence_id').where('user_id', user);
  const named = knex('contact_assignees').select('contact_id').where('user_id', user);
  return [
    // Their ids as one array, each looked up by the key (which carries status and assignment): as a
    // join, PostgreSQL preferred hashing all 80,000 contacts assigned by name to find 1,900 (16 of 23 ms).
    base().where(`${alias}.assignment`, 'users').whereRaw(`${alias}.id = any(array(?))`, [named]),
    base().where(`${alias}.assignment`, 'competence').whereIn(`${alias}.competence_id`, competences),
  ];
}

function unionAll(knex: Knex, parts: Knex.QueryBuilder[]): Knex.Raw {
  return knex.raw(parts.map(() => '(?)').join(' union all '), parts);
}

/**
 * The same rule for many contacts at once, without testing every employee
 * against every contact (10,000 contacts and 50 employees are half a million
 * tests): the rows of `relation` (with contact_id, assignment, competence_id)
 * that are assigned by name or to a competence, once per responsible employee
 * (`user_id`, with the row's own columns). Rows assigned to all concern every
 * employee; the caller counts those once for everybody instead.
 */
export function responsibleByAssignment(knex: Knex, relation: string): Knex.Raw {
  return knex.raw(
    `select r.*, ra.user_id from ?? r join contact_assignees ra on ra.contact_id = r.contact_id where r.assignment <> 'all'
     union
     select r.*, rm.user_id from ?? r join competence_members rm on rm.competence_id = r.competence_id where r.assignment <> 'all'`,
    [relation, relation],
  );
}

/** Only contacts assigned to the employee by name (the list's "nur direkte Zuweisung"). */
export function whereDirectlyAssigned(query: Knex.QueryBuilder, knex: Knex, user: string, alias = 'c'): Knex.QueryBuilder {
  return query.whereExists(knex.select(knex.raw('1')).from('contact_assignees as ra').whereRaw(`ra.contact_id = ${alias}.id`).andWhere('ra.user_id', user));
}
