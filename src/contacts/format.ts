import { html, Html } from '../web/html';
import { countryCodes, salutations } from './schema';

/** How a contact is named and pictured in lists, headers and messages. */
export interface Nameable {
  first_name: string | null;
  last_name: string | null;
  company: string | null;
}

// displayName, initials and avatarColour run for every row of every list page: written without temporary arrays.
export function displayName(c: Nameable): string {
  if (c.first_name && c.last_name) return `${c.first_name} ${c.last_name}`;
  return c.first_name || c.last_name || c.company || '–';
}

/** The first character of a word, a whole code point (an emoji or a letter outside the BMP stays whole). */
function firstLetter(word: string | null | undefined): string {
  if (!word) return '';
  const code = word.codePointAt(0)!;
  return code > 0xffff ? word.slice(0, 2) : word[0];
}

export function initials(c: Nameable): string {
  let letters: string;
  if (c.last_name) letters = firstLetter(c.first_name) + firstLetter(c.last_name);
  else {
    const [first, second] = (c.company ?? '').split(/\s+/, 2);
    letters = firstLetter(first) + firstLetter(second);
  }
  return (letters || '?').toUpperCase().slice(0, 2);
}

/**
 * A colour class derived from the name, so a contact keeps its colour
 * everywhere. Eight classes in app.css, each with enough contrast for white text.
 */
export function avatarColour(c: Nameable): number {
  const name = displayName(c);
  let hash = 0;
  for (let i = 0; i < name.length; i++) {
    const code = name.codePointAt(i)!;
    hash = (hash * 31 + code) >>> 0;
    if (code > 0xffff) i++;
  }
  return hash % 8;
}

export interface Pictured extends Nameable {
  id: string | number;
  picture_updated_at: Date | string | null;
}

/**
 * The contact's picture, or its initials on the name's colour: 32 px in lists,
 * 96 px (`large`, with `alt`) in the master data header. The `?v=` changes with
 * every upload, so the picture can be cached for good.
 */
export function avatar(basePath: string, contact: Pictured, { large = false, alt = '' }: { large?: boolean; alt?: string } = {}): Html {
  const size = large ? ' avatar-large' : '';
  if (contact.picture_updated_at) {
    const src = `${basePath}/contacts/${contact.id}/picture?v=${new Date(contact.picture_updated_at).getTime()}`;
    const px = large ? 96 : 32;
    return html`<img class="avatar${size}" src="${src}" alt="${alt}" width="${px}" height="${px}"${large ? '' : new Html(' loading="lazy"')}>`;
  }
  return html`<span class="avatar avatar-c${avatarColour(contact)}${size}" aria-hidden="true">${initials(contact)}</span>`;
}

/** Whether the text is a real day written YYYY-MM-DD (not 2024-02-30, which Date would roll over). */
function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const day = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(day.getTime()) && day.toISOString().slice(0, 10) === text;
}

/**
 * A master data value as the form shows it, for the history and the conflict
 * table: "Frau", not "ms"; "Österreich", not "AT"; a birthday as a date of the
 * employee's language; "(leer)" for nothing. Other fields as they are.
 */
export function fieldText(field: string, value: unknown, t: (key: string) => string, formatDate: (value: string) => string): string {
  if (value == null || value === '') return t('contacts.conflict.empty');
  const text = String(value);
  if (field === 'salutation') return (salutations as readonly string[]).includes(text) ? t(`contacts.salutations.${text}`) : text;
  if (field === 'country') return (countryCodes as readonly string[]).includes(text) ? t(`contacts.countries.${text}`) : text;
  // Typed input may be no date at all ("1980-13-01" from a crafted form): shown as sent, not a RangeError.
  if (field === 'birthday' && isCalendarDate(text)) return formatDate(text);
  return text;
}
