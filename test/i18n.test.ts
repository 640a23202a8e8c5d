import { de } from '../src/i18n/de';
import { en } from '../src/i18n/en';
import { languages, translator, type Language, type MessageKey, type Params } from '../src/i18n';

/**
 * translator() splits each message at its placeholders once, ahead of time; this
 * is the plain version it replaced, which it must match for every message: no
 * text changes because of how it is put together.
 */
function flatten(node: object, prefix = '', into = new Map<string, string>()): Map<string, string> {
  for (const [key, value] of Object.entries(node)) {
    if (typeof value === 'string') into.set(prefix + key, value);
    else flatten(value as object, `${prefix}${key}.`, into);
  }
  return into;
}

const catalogs: Record<Language, Map<string, string>> = { de: flatten(de), en: flatten(en) };
const numberFormats: Record<Language, Intl.NumberFormat> = { de: new Intl.NumberFormat('de-DE'), en: new Intl.NumberFormat('en-GB') };

function plain(language: Language) {
  const catalog = catalogs[language];
  const german = catalogs.de;
  return (key: string, params?: Params) => {
    const singular = params?.count === 1 ? (catalog.get(`${key}_one`) ?? german.get(`${key}_one`)) : undefined;
    const text = singular ?? catalog.get(key) ?? german.get(key) ?? key;
    if (!params) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
      if (!(name in params)) return whole;
      const value = params[name];
      return typeof value === 'number' ? numberFormats[language].format(value) : value;
    });
  };
}

describe('translations', () => {
  const keys = [...new Set([...catalogs.de.keys(), ...catalogs.en.keys()]), 'gibt.es.nicht'];
  const names = [...new Set([...catalogs.de.values()].flatMap((text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1])))];
  const every = (value: string | number) => Object.fromEntries(names.map((name) => [name, value]));
  const paramSets: (Params | undefined)[] = [
    undefined,
    {},
    { count: 1 },
    { count: 0 },
    { count: 12345.5 },
    { ...every('<b>Müller & Söhne</b> {name}'), count: 1 },
    { ...every(1234567), count: 2 },
    { name: '$& $1 $$' },
  ];

  it('says every message as the plain lookup and replace did, in both languages', () => {
    expect(names.length).toBeGreaterThan(5);
    for (const language of languages) {
      const t = translator(language);
      const expected = plain(language);
      for (const key of keys) {
        for (const params of paramSets) expect([key, params, t(key as MessageKey, params)]).toEqual([key, params, expected(key, params)]);
      }
    }
  });

  it('formats numbers for the language and says the key where there is no message', () => {
    expect(translator('de')('contacts.count', { count: 1234 })).toBe('1.234 Kontakte');
    expect(translator('en')('contacts.count', { count: 1234 })).toBe('1,234 contacts');
    expect(translator('de')('gibt.es.nicht' as MessageKey)).toBe('gibt.es.nicht');
  });
});
