import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD_INFO_FILE, type BuildInfo } from '../build-info.js';
import { CODELOOP_VERSION } from '../version.js';

/**
 * Run by `npm run build` after tsc: writes dist/server/build-info.json, the build id the CLI, `codeloop lsp` and
 * the native client show the daemon (see server/daemon/daemon-build.ts). The id is a hash of the compiled code
 * (dist/server and dist/protocol) and the version, so rebuilding unchanged code keeps it — and its `builtAt`,
 * kept from the file it replaces — while any change of code makes a new build, newer than the last.
 */
const distServer = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const hash = createHash('sha256').update(CODELOOP_VERSION);
for (const folder of [distServer, path.join(distServer, '../protocol')]) {
  const files = (fs.readdirSync(folder, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile() && entry.name.endsWith('.js'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
  for (const file of files) hash.update(path.relative(folder, file)).update('\0').update(fs.readFileSync(file)).update('\0');
}
const buildId = hash.digest('hex').slice(0, 16);
const target = path.join(distServer, BUILD_INFO_FILE);
let previous: Partial<BuildInfo> = {};
try {
  previous = JSON.parse(fs.readFileSync(target, 'utf8')) as Partial<BuildInfo>;
} catch {
  // the first build
}
const info: BuildInfo = { buildId, builtAt: previous.buildId === buildId && previous.builtAt ? previous.builtAt : Date.now(), version: CODELOOP_VERSION };
fs.writeFileSync(target, `${JSON.stringify(info)}\n`);
