import type { SqliteDatabase } from './index-database.js';

const VERSION_FOLDER = /(?:^|\/)v(\d+)\//;
/** Newer versions looked for beside a `vN/` folder. */
const NEWER_VERSIONS = 3;

/**
 * Whether an indexed file is a superseded copy of the code kept for compatibility: it lies under a version folder
 * `vN/` and either the same parent holds a newer `vM/` folder (M > N; zod's `src/v3/` beside `src/v4/`), or the
 * file exists without the `vN/` step as well (pydantic's `pydantic/v1/typing.py` beside `pydantic/typing.py`).
 * A report is rarely about the old copy, yet it holds all the same words. Returns a function that answers from
 * the index; folders already asked about are remembered for the caller's query.
 */
export function supersededPaths(db: SqliteDatabase): (relativePath: string) => boolean {
  const anyUnder = db.prepare('SELECT 1 FROM files WHERE path >= ? AND path < ? LIMIT 1').pluck();
  const exists = db.prepare('SELECT 1 FROM files WHERE path = ?').pluck();
  const newerFolder = new Map<string, boolean>();
  return (relativePath) => {
    const match = VERSION_FOLDER.exec(relativePath);
    if (!match) return false;
    const start = match.index + (match[0].startsWith('/') ? 1 : 0);
    const parent = relativePath.slice(0, start);
    const version = Number(match[1]);
    const key = `${parent}v${version}`;
    let newer = newerFolder.get(key);
    if (newer === undefined) {
      newer = false;
      // '0' sorts right after '/': [`p/v4/`, `p/v40`) is everything under `p/v4/`.
      for (let next = version + 1; next <= version + NEWER_VERSIONS && !newer; next++) newer = anyUnder.get(`${parent}v${next}/`, `${parent}v${next}0`) !== undefined;
      newerFolder.set(key, newer);
    }
    return newer || exists.get(parent + relativePath.slice(start + `v${match[1]}/`.length)) !== undefined;
  };
}
