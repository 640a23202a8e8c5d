import { de, type Catalog } from './de';
import { en } from './en';

/** The one translation mechanism: typed catalogues, dotted keys, `{name}` placeholders. */
export const languages = ['de', 'en'] as const;
export type Language = (typeof languages)[number];

const catalogs: Record<Language, Catalog> = { de, en };

type Leaves<T, Prefix extends string = ''> = {
  [K in keyof T & (string | number)]: T[K] extends string ? `${Prefix}${K}` : Leaves<T[K], `${Prefix}${K}.`>;
}[keyof T & (string | number)];
export type MessageKey = Leaves<Catalog>;
export type Params = Record<string, string | number>;
export type Translate = (key: MessageKey, params?: Params) => string;

function lookup(catalog: Catalog, key: string): string | undefined {
  let node: unknown = catalog;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === 'string' ? node : undefined;
}

export function translator(language: Language): Translate {
  const catalog = catalogs[language];
  return (key, params) => {
    // Singular: a key with `_one` beside it is used when `count` is 1 ("1 Kontakt archiviert").
    const singular = params?.count === 1 ? (lookup(catalog, `${key}_one`) ?? lookup(de, `${key}_one`)) : undefined;
    const text = singular ?? lookup(catalog, key) ?? lookup(de, key) ?? key;
    if (!params) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? formatParam(language, params[name]) : whole));
  };
}

function formatParam(language: Language, value: string | number): string {
  return typeof value === 'number' ? value.toLocaleString(language === 'de' ? 'de-DE' : 'en-GB') : value;
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
