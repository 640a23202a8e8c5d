import { readFileSync } from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';
import { escapeForView, Html } from './html';
import { viewsDir } from './assets';

/**
 * A partial that prints many rows, compiled in strict mode without EJS's
 * `with (locals)`: V8 does not optimise a function that contains `with`, so a
 * row loop included the usual way runs in the interpreter (the contacts
 * list's 50 rows: 0.35 ms per page, 0.15 ms compiled strict). The partial
 * names the locals it reads; a name it uses but does not declare fails
 * loudly (strict mode), never silently. A view prints it with
 * `<%- contactRows({ ...locals, rows }) %>`.
 * Compiled once with `cache` (Express's "view cache", on in production); read
 * afresh otherwise, so an edited template shows without a restart. Escapes as
 * every other view does (escapeForView).
 */
export function strictPartial(view: string, names: readonly string[], { cache }: { cache: boolean }): (locals: Record<string, unknown>) => Html {
  const filename = path.join(viewsDir, `${view}.ejs`);
  const compile = () =>
    ejs.compile(readFileSync(filename, 'utf8'), { filename, root: viewsDir, escape: escapeForView, _with: false, strict: true, destructuredLocals: [...names] });
  let cached: ejs.TemplateFunction | undefined;
  return (locals) => {
    const template = cache ? (cached ??= compile()) : compile();
    return new Html(template(locals));
  };
}
