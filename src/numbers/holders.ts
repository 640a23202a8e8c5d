import type { Target } from './schema';

/**
 * Where the numbers of a target live: the column that holds them and the unique
 * index (on `lower(column)`) that makes each number exist once. Allocation asks
 * this column which candidates are taken, so numbers typed by hand are skipped.
 */
export interface NumberHolder {
  table: string;
  column: string;
  uniqueIndex: string;
}

export const numberHolders: Record<Target, NumberHolder> = {
  contacts: { table: 'contacts', column: 'customer_number', uniqueIndex: 'contacts_customer_number_unique' },
  groups: { table: 'groups', column: 'group_number', uniqueIndex: 'groups_number_unique' },
};
