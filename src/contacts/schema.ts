import { domainToASCII, domainToUnicode } from 'node:url';
import { z } from 'zod';
import { statuses, activeStatuses } from './status';
import { RecordId, recordId } from '../web/validation';
import type { MessageKey } from '../i18n';

export const countryCodes = ['DE', 'AT', 'CH', 'NL', 'FR', 'IT', 'PL', 'LU', 'BE', 'DK', 'CZ', 'GB', 'US'] as const;
export const salutations = ['mr', 'ms', 'mx'] as const;

/** Form text: trimmed; blank means "not given" (null, so an update can clear a field). */
const text = (max: number) =>
  z.preprocess((v) => (typeof v === 'string' ? v.trim() || null : v ?? null), z.string().max(max).nullable());

const pattern = (max: number, regex: RegExp, message: string) =>
  z.preprocess((v) => (typeof v === 'string' ? v.trim() || null : v ?? null), z.string().max(max).regex(regex, message).nullable());

const blankToNull = (v: unknown) => (typeof v === 'string' ? v.trim() || null : v ?? null);

/**
 * An e-mail address whose domain may have umlauts ("info@müller-bäckerei.de"):
 * kept as written, and as written when the browser sends it in its ASCII form
 * ("xn--mller-bckerei-…", what Chromium makes of a type=email field), so that
 * it reads right and the search finds "müller" in it. Checked in ASCII form.
 */
const emailAddress = z.preprocess(
  (v) => {
    const given = blankToNull(v);
    if (typeof given !== 'string') return given;
    const at = given.lastIndexOf('@');
    if (at < 1) return given;
    const domain = given.slice(at + 1).toLowerCase();
    return `${given.slice(0, at)}@${domainToUnicode(domain) || domain}`;
  },
  z
    .string()
    .max(254)
    .refine((address) => {
      const at = address.lastIndexOf('@');
      const ascii = at < 1 ? '' : domainToASCII(address.slice(at + 1));
      return Boolean(ascii) && z.email().safeParse(`${address.slice(0, at)}@${ascii}`).success;
    }, 'contacts.invalid.email')
    .nullable(),
);

// Years 1000-9999: PostgreSQL has no year 0 (0000-01-01 was an error of the statement).
const isoDate = z.string().regex(/^[1-9]\d{3}-\d{2}-\d{2}$/, 'contacts.invalid.date').refine((v) => {
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(v);
}, 'contacts.invalid.date');

/**
 * A phone number as German offices write it: "+49 89 1234567", "(089) 1234567",
 * "089/123 45-67", a dash as Word pastes it ("– 12"), and a short note in
 * brackets at the end ("(Zentrale)"); at least three digits, nothing else.
 */
const phone = pattern(40, /^(?=(?:\D*\d){3})[+(]?[0-9][0-9 ()/.\-\u2013\u2014]*(?: ?\(\p{L}[\p{L} .-]{0,24}\))?$/u, 'contacts.invalid.phone');

/** The master data fields, as named in the form and the table. */
const masterData = {
  salutation: z.preprocess(blankToNull, z.enum(salutations).nullable()),
  first_name: text(100),
  last_name: text(100),
  company: text(200),
  email: emailAddress,
  phone,
  customer_number: text(40),
};

const moreMasterData = {
  mobile: phone,
  website: pattern(200, /^(https?:\/\/)?[\p{L}0-9-]+(\.[\p{L}0-9-]+)+(:\d+)?(\/\S*)?$/iu, 'contacts.invalid.website'),
  street: text(200),
  postal_code: pattern(10, /^[A-Za-z0-9][A-Za-z0-9 -]{2,9}$/, 'contacts.invalid.postal_code'),
  city: text(100),
  country: z.preprocess((v) => blankToNull(v) ?? 'DE', z.enum(countryCodes, 'contacts.invalid.country')),
  birthday: z.preprocess(
    blankToNull,
    isoDate.refine((v) => v >= '1900-01-01' && v <= new Date().toISOString().slice(0, 10), 'contacts.invalid.birthday').nullable(),
  ),
  notes: text(5000),
};

/**
 * Last name or company is required. Checked even when other fields are invalid
 * (`when`), so the user sees every message at once.
 */
function requireNameOrCompany<T extends z.ZodType<{ last_name: string | null; company: string | null }>>(schema: T) {
  const named = (v: { last_name: string | null; company: string | null }) => Boolean(v.last_name || v.company);
  const always = { when: () => true, message: 'contacts.nameOrCompany' };
  return schema.refine(named, { ...always, path: ['last_name'] }).refine(named, { ...always, path: ['company'] });
}

export const ContactCreate = requireNameOrCompany(
  z.object({
    ...masterData,
    status: z.preprocess((v) => blankToNull(v) ?? 'prospect', z.enum(activeStatuses, 'contacts.invalid.status')),
    create_token: z.uuid(),
    /** "Nummer erzeugen" was pressed: the number comes from the default circle when saving. */
    generate_number: z.literal('1').optional().catch(undefined),
  }),
);
export type ContactCreate = z.infer<typeof ContactCreate>;

/** The form's version: an integer column, so nothing above PostgreSQL's integer (a larger one was a 500). */
const version = z.coerce.number().int().positive().max(2_147_483_647);

/**
 * The postal codes of the countries whose form is fixed: "7O173" (a letter O for a zero) or a
 * four-digit code under Deutschland never find the letter its way. The country's letters may
 * come first, as Luxembourg writes them ("L-1234") and old German addresses do ("D-80331").
 * Where the form is looser (GB, US), the general pattern of the field is all.
 */
const postalCodeForms: Partial<Record<(typeof countryCodes)[number], RegExp>> = {
  DE: /^(D-)?\d{5}$/i,
  AT: /^(A-)?\d{4}$/i,
  CH: /^(CH-)?\d{4}$/i,
  LU: /^(L-)?\d{4}$/i,
  BE: /^(B-)?\d{4}$/i,
  DK: /^(DK-)?\d{4}$/i,
  NL: /^(NL-)?\d{4}( ?[A-Z]{2})?$/i,
  FR: /^(F-)?\d{5}$/i,
  IT: /^(I-)?\d{5}$/i,
  PL: /^(PL-)?\d{2}-\d{3}$/i,
  CZ: /^(CZ-)?\d{3} ?\d{2}$/i,
};

/** What is wrong with a postal code for its country (a message key), if anything. */
export function postalCodeMismatch(postalCode: string, country: string): MessageKey | undefined {
  const form = postalCodeForms[country as keyof typeof postalCodeForms];
  return form && postalCode && !form.test(postalCode) ? (`contacts.invalid.postalCodes.${country}` as MessageKey) : undefined;
}

const ContactUpdateShape = z.object({ ...masterData, ...moreMasterData, version });
export const ContactUpdate = requireNameOrCompany(ContactUpdateShape);
export type ContactUpdate = z.infer<typeof ContactUpdate>;

/** The editable columns, in the order the master data form shows them. */
export const editableFields = [...Object.keys(masterData), ...Object.keys(moreMasterData)] as (keyof z.infer<typeof ContactUpdateShape> & string)[];

export const ContactId = RecordId;

/** `from`: the status the dialog showed; a change made meanwhile by someone else is not undone unseen. */
export const StatusChange = z.object({ to: z.enum(statuses), from: z.enum(statuses).optional(), version: version.optional() });
export type StatusChange = z.infer<typeof StatusChange>;

export const NoteInput = z.object({
  text: z.preprocess((v) => (typeof v === 'string' ? v.trim() : v), z.string().min(1).max(5000)),
  // From the page's form; a page from before it had none (and anything else is no token either).
  note_token: z.uuid().optional().catch(undefined),
});
export type NoteInput = z.infer<typeof NoteInput>;

export const sorts = ['name', '-name', 'number', '-number', 'created', '-created'] as const;
export type Sort = (typeof sorts)[number];

/** The words of a search, as typed: "Braun, Felix" (the way a list of names writes them) as well as "Felix Braun". */
export function searchWords(q: string | undefined): string[] {
  return (q ?? '').split(/[\s,;]+/).filter(Boolean);
}

const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());
const oneOrMany = (v: unknown) => (v === undefined || v === '' ? undefined : Array.isArray(v) ? v.filter((x) => x !== '') : [v]);

/**
 * The list's filter, as it stands in the query string. Dynamic groups store
 * exactly this shape, so it is the one definition of "which contacts".
 */
export const ListFilter = z.object({
  // Only separators ("," or ";") search for nothing: the plain list, not a search through every contact.
  q: optional(z.string().trim().max(200).transform((v) => (searchWords(v).length ? v : undefined))),
  status: z.preprocess(oneOrMany, z.array(z.enum(statuses)).max(statuses.length).optional()),
  postal_code: optional(z.string().trim().regex(/^[A-Za-z0-9 -]{1,10}$/, 'contacts.invalid.postal_code')),
  city: optional(z.string().trim().max(100)),
  country: optional(z.enum(countryCodes, 'contacts.invalid.country')),
  created_from: optional(isoDate),
  created_to: optional(isoDate),
  has_number: optional(z.enum(['yes', 'no'])),
  has_email: optional(z.enum(['yes', 'no'])),
  /** An employee id, or `me` (the viewer): contacts that employee is responsible for. */
  assigned: optional(z.union([z.literal('me'), recordId('validation.invalid')])),
  assigned_direct: optional(z.literal('1')),
  competence: optional(recordId('validation.invalid')),
});
export type ListFilter = z.infer<typeof ListFilter>;

/** The filter's own fields: what narrows the list (not where in it, nor the group). */
export const filterKeys = ListFilter.keyof().options;

/** Where in the list: sort order and keyset cursor (not part of a saved filter). */
export const ListPosition = z.object({
  sort: optional(z.enum(sorts)).transform((v) => v ?? 'name'),
  after: optional(z.string().max(400)),
  before: optional(z.string().max(400)),
  last: optional(z.literal('1')),
  /**
   * The page's number, shown in the pager and carried by its links beside the cursor. Without a
   * cursor (a link or bookmark "?page=3", SPEC §11) the page is that many pages in. Any other value
   * is ignored, like a tampered cursor.
   */
  page: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(1).max(100_000).optional()).catch(undefined),
  /** "genau zählen": the exact total even beyond the list's cap. Any other value is ignored, like a tampered cursor: no field to correct. */
  count: z.literal('exact').optional().catch(undefined),
});
export type ListPosition = z.infer<typeof ListPosition>;

/** The list's query string: filter, position, and the group chosen in the sidebar (not part of a saved filter). */
export const ListQuery = ListFilter.extend(ListPosition.shape)
  .extend({
    group: optional(recordId('validation.invalid')),
  })
  // "Angelegt von … bis" the wrong way round found nothing and said nothing.
  .superRefine((v, ctx) => {
    if (v.created_from && v.created_to && v.created_from > v.created_to) ctx.addIssue({ code: 'custom', path: ['created_to'], message: 'contacts.invalid.dateOrder' });
  })
  // The default statuses named are the same list as none named (outside a group, where none means
  // every status): one form, so that the selection, the links and "Erweitert" see one filter
  // whether the form sent its ticked defaults or a live search left them out (public/js/app.js).
  .transform((v) => (!v.group && namesDefaultStatuses(v.status) ? { ...v, status: undefined } : v));
export type ListQuery = z.infer<typeof ListQuery>;

function namesDefaultStatuses(named: readonly string[] | undefined): boolean {
  return named?.length === activeStatuses.length && activeStatuses.every((s) => named.includes(s));
}

/** Statuses shown when the filter names none: the active contacts. */
export function effectiveStatuses(filter: ListFilter): readonly (typeof statuses)[number][] {
  return filter.status?.length ? filter.status : activeStatuses;
}
