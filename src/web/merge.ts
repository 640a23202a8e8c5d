/**
 * A form saved over a change made while it was open, field by field (a
 * three-way merge against what the form showed, `seen`): a field the form
 * left as it showed it takes what is saved now; a field changed on both
 * sides, to different values, clashes. `same` compares a field's values
 * (ids in any order, say).
 */
export function mergeEdit<T extends Record<string, unknown>>(
  fields: readonly (keyof T & string)[],
  { wanted, seen, current }: { wanted: T; seen: T; current: T },
  same: (field: keyof T, a: unknown, b: unknown) => boolean = (_field, a, b) => a === b,
): { merged: T; untouched: (keyof T & string)[]; clashes: (keyof T & string)[] } {
  const untouched = fields.filter((f) => same(f, wanted[f], seen[f]));
  const clashes = fields.filter((f) => !untouched.includes(f) && !same(f, current[f], seen[f]) && !same(f, current[f], wanted[f]));
  const merged = { ...wanted, ...Object.fromEntries(untouched.map((f) => [f, current[f]])) };
  return { merged, untouched, clashes };
}
