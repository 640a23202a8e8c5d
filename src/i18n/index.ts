import { de, type Catalog } from './de';
import { en } from './en';

/** The one translation mechanism: typed catalogues, dotted keys, `{name}` placeholders. */
export const languages = ['de', 'en'] as const;
export type Language = (typeof languages)[number];


type Leaves<T, Prefix extends string = ''> = {
  [K in keyof T & (string | number)]: T[K] extends string ? `${Prefix}${K}` : Leaves<T[K], `${Prefix}${K}.`>;
}[keyof T & (string | number)];
export type MessageKey = Leaves<Catalog>;
export type Params = Record<string, string | number>;
export type Translate = (key: MessageKey, params?: Params) => string;

/** Each catalogue as dotted key → text, built once: a page looks up a few hundred keys. */
function flatten(node: object, prefix = '', into = new Map<string, string>()): Map<string, string> {
  for (const [key, value] of Object.entries(node)) {
    if (typeof value === 'string') into.set(prefix + key, value);
    else flatten(value as object, `${prefix}${key}.`, into);
  }
  return into;
}

/** A message, and where it has placeholders, its parts: text, name, text, name, …, text. */
interface Message {
  text: string;
  parts?: string[];
}

function message(text: string): Message {
  const parts = text.split(/\{(\w+)\}/);
  return parts.length > 1 ? { text, parts } : { text };
}

const german = flatten(de);
const catalogs: Record<Language, Map<string, string>> = { de: german, en: flatten(en satisfies Catalog) };
const numberFormats: Record<Language, Intl.NumberFormat> = { de: new Intl.NumberFormat('de-DE'), en: new Intl.NumberFormat('en-GB') };

/**
 * Each language's messages, German wherever it has none, split at their
 * placeholders once: a page of the list asks for some 150 messages, 50 of them
 * with a name to put in.
 */
function translate(language: Language): Translate {
  const messages = new Map([...german, ...catalogs[language]].map(([key, text]) => [key, message(text)]));
  const numbers = numberFormats[language];
  return (key, params) => {
    // Singular: a key with `_one` beside it is used when `count` is 1 ("1 Kontakt archiviert").
    const found = (params?.count === 1 ? messages.get(`${key}_one`) : undefined) ?? messages.get(key);
    if (!found) return key;
    if (!params || !found.parts) return found.text;
    const parts = found.parts;
    let text = parts[0];
    for (let i = 1; i < parts.length; i += 2) {
      const name = parts[i];
      const value = params[name];
      text += (!(name in params) ? `{${name}}` : typeof value === 'number' ? numbers.format(value) : value) + parts[i + 1];
    }
    return text;
  };
}

const translators = Object.fromEntries(languages.map((language) => [language, translate(language)])) as Record<Language, Translate>;

export function translator(language: Language): Translate {
  return translators[language];
}

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (languages as readonly string[]).includes(value);
}

/** Picks the first supported language from an Accept-Language header; German otherwise. */
export function languageFromHeader(header: string | undefined): Language {
  if (!header) return 'de';
  const ranked = header
    .split(',')
    .map((part) => {
      const [tag, ...rest] = part.trim().split(';');
      const q = rest.find((r) => r.trim().startsWith('q='));
      return { tag: tag.trim().toLowerCase().slice(0, 2), q: q ? Number(q.trim().slice(2)) : 1 };
    })
    .filter((entry) => entry.q > 0)
    .sort((a, b) => b.q - a.q);
  return ranked.map((entry) => entry.tag).find(isLanguage) ?? 'de';
}

const timeZone = 'Europe/Berlin';
const locales: Record<Language, string> = { de: 'de-DE', en: 'en-GB' };

/** Dates and times as a German office reads them: 27.11.2026, 14:03 (Berlin time). Built once per language. */
const dateTimeFormats = Object.fromEntries(
  languages.map((l) => [l, new Intl.DateTimeFormat(locales[l], { dateStyle: 'medium', timeStyle: 'short', timeZone })]),
) as Record<Language, Intl.DateTimeFormat>;
const dateFormats = Object.fromEntries(
  languages.map((l) => [l, new Intl.DateTimeFormat(locales[l], { dateStyle: 'medium', timeZone })]),
) as Record<Language, Intl.DateTimeFormat>;

export function dateTimeFormatter(language: Language): (value: Date | string) => string {
  return (value) => dateTimeFormats[language].format(new Date(value));
}

export function dateFormatter(language: Language): (value: Date | string) => string {
  return (value) => dateFormats[language].format(new Date(value));
}

const shortStampFormat = new Intl.DateTimeFormat('de-DE', { day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone });

/** Day and time as the names of temporary groups give them: "27.11. 14:05" (the app's time zone). */
export function shortStamp(at: Date): string {
  const parts = Object.fromEntries(shortStampFormat.formatToParts(at).map((p) => [p.type, p.value]));
  return `${parts.day}.${parts.month}. ${parts.hour}:${parts.minute}`;
}
