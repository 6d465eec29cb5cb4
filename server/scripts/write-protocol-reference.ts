import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderReference } from '../../protocol/reference.js';

/** `npm run protocol:reference`: rewrites protocol/REFERENCE.md from the schemas. */
const target = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../protocol/REFERENCE.md');
fs.writeFileSync(target, renderReference());
process.stdout.write(`wrote ${target}\n`);
