import { describe, expect, it } from 'vitest';
import { importedPaths } from '../../server/index/import-resolution.js';
import { cpuSlowness } from '../helpers/cpu-calibration.js';

const FILES = new Set([
  'pkg/__init__.py', 'pkg/core.py', 'pkg/util/__init__.py', 'pkg/util/strings.py', 'pkg/io/reader.py',
  'src/app/__init__.py', 'src/app/models.py',
  'web/src/client.ts', 'web/src/retry.ts', 'web/src/types/index.ts', 'web/src/view.tsx',
]);
const exists = (file: string) => FILES.has(file);
const GO_FOLDERS: Record<string, string[]> = {
  'internal/js_ast': ['internal/js_ast/js_ast.go', 'internal/js_ast/js_ident.go'],
  'internal/logger': ['internal/logger/logger.go'],
  'pkg/api': ['pkg/api/api.go'],
  'internal/late': ['internal/late/late.go'],
};
const goFilesIn = (dir: string) => GO_FOLDERS[dir] ?? [];

describe('importedPaths', () => {
  it('resolves Python absolute, relative, submodule and src-layout imports to repository files', () => {
    const text = [
      'import pkg.core',
      'from pkg.util import strings',
      'from .. import core',
      'from ..util.strings import pad, trim',
      'from app.models import User',
      'import numpy as np',
      'from . import missing',
    ].join('\n');
    expect(importedPaths('pkg/io/reader.py', text, exists).sort()).toEqual([
      'pkg/__init__.py', 'pkg/core.py', 'pkg/util/__init__.py', 'pkg/util/strings.py', 'src/app/models.py',
    ]);
  });

  it('resolves relative ECMAScript imports, with .js written for .ts and folder indexes', () => {
    const text = [
      "import { retry } from './retry.js';",
      "import type { Options } from './types';",
      "const view = await import('./view');",
      "import express from 'express';",
    ].join('\n');
    expect(importedPaths('web/src/client.ts', text, exists).sort()).toEqual(['web/src/retry.ts', 'web/src/types/index.ts', 'web/src/view.tsx']);
  });

  it('resolves Go import paths to the files of the repository folder they end with, block or single, aliased or not', () => {
    const text = [
      'package bundler',
      '',
      'import (',
      '\t"fmt"',
      '\t"github.com/evanw/esbuild/internal/js_ast"',
      '\tlog "github.com/evanw/esbuild/internal/logger"',
      ')',
      '',
      'import "github.com/evanw/esbuild/pkg/api"',
      '',
      'func run() {}',
      // Past the first declaration nothing is an import (a string in code is not).
      '\tx := "github.com/evanw/esbuild/internal/late"',
      'import "github.com/evanw/esbuild/internal/late"',
    ].join('\n');
    expect(importedPaths('internal/bundler/bundler.go', text, exists, goFilesIn).sort()).toEqual([
      'internal/js_ast/js_ast.go', 'internal/js_ast/js_ident.go', 'internal/logger/logger.go', 'pkg/api/api.go',
    ]);
  });

  it('skips absurdly long lines instead of scanning them', () => {
    expect(importedPaths('pkg/core.py', `from pkg.util import ${'x, '.repeat(10_000)}strings`, exists)).toEqual([]);
  });

  it('finds imports anywhere in a module, CRLF or LF, first and last line, and not words that contain import', () => {
    const body = (n: number) => Array.from({ length: n }, (_, i) => `export const reimported_${i} = required(imports, ${i});`);
    for (const lineBreak of ['\n', '\r\n']) {
      const text = [
        "import { retry } from './retry.js';",
        ...body(5_000),
        "  const view = require('./view');",
        "const importer = 'from ./types';",
        ...body(5_000),
        "export default await import('./types')",
      ].join(lineBreak);
      expect(importedPaths('web/src/client.ts', text, exists)).toEqual(['web/src/retry.ts', 'web/src/view.tsx', 'web/src/types/index.ts']);
    }
    expect(importedPaths('web/src/client.ts', 'import', exists)).toEqual([]);
    expect(importedPaths('pkg/io/reader.py', 'x = 1\nfrom ..util import strings', exists).sort()).toEqual(['pkg/util/__init__.py', 'pkg/util/strings.py']);
  });

  it('reads a 900 KB module in a few milliseconds of CPU, so ranking a large leading file holds no other editor', () => {
    // The session of test/reliability/event-loop-budget.test.ts ranks three such files per question: a multiline
    // regular expression over them took 15–50 ms of the event loop each time.
    const text = `import { retry } from './retry.js';\n${Array.from({ length: 12_000 }, (_, i) => `export const value_${i} = compute(${i}, 'a fairly long string literal here');`).join('\n')}`;
    let best = Infinity;
    for (let run = 0; run < 5; run++) {
      const start = process.cpuUsage();
      expect(importedPaths('web/src/client.ts', text, exists)).toEqual(['web/src/retry.ts']);
      const used = process.cpuUsage(start);
      best = Math.min(best, (used.user + used.system) / 1000);
    }
    expect(best).toBeLessThan(3 * cpuSlowness());
  });
});
