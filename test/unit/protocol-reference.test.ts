import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderReference } from '../../protocol/reference.js';

describe('protocol/REFERENCE.md', () => {
  it('is what the schemas generate (run `npm run protocol:reference` after changing protocol/)', () => {
    const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../protocol/REFERENCE.md');
    expect(fs.readFileSync(file, 'utf8')).toBe(renderReference());
  });
});
