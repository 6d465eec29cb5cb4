import fs from 'node:fs';
import { CODELOOP_VERSION } from './version.js';

/**
 * Which build of codeloop this process runs: `buildId` a hash of the compiled code, `builtAt` when that code was
 * first built (ms since the epoch), both written by `npm run build` (server/scripts/write-build-info.ts) into
 * dist/server/build-info.json. Run from source (no such file) it is the build "source", built at 0 — older than
 * any real build.
 */
export interface BuildInfo {
  buildId: string;
  builtAt: number;
  version: string;
}

/** The file's name, beside this module in dist/server/. */
export const BUILD_INFO_FILE = 'build-info.json';

export const BUILD_INFO: BuildInfo = (() => {
  try {
    const read = JSON.parse(fs.readFileSync(new URL(`./${BUILD_INFO_FILE}`, import.meta.url), 'utf8')) as Partial<BuildInfo>;
    if (typeof read.buildId === 'string' && typeof read.builtAt === 'number') return { buildId: read.buildId, builtAt: read.builtAt, version: CODELOOP_VERSION };
  } catch {
    // run from source, or a dist/ built before build ids
  }
  return { buildId: 'source', builtAt: 0, version: CODELOOP_VERSION };
})();

/** A build as people read it: "0.1.0 (build 3f2a…, built 2026-12-01 02:13 UTC)". */
export function describeBuild(build: BuildInfo): string {
  const when = build.builtAt ? `, built ${new Date(build.builtAt).toISOString().slice(0, 16).replace('T', ' ')} UTC` : '';
  return `${build.version} (build ${build.buildId}${when})`;
}
