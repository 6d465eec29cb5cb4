import { describe, expect, it } from 'vitest';
import { importedPaths } from '../../server/index/import-resolution.js';
import { isTestPath } from '../../server/index/test-paths.js';

const FILES = new Set([
  'pkg/__init__.py', 'pkg/core.py', 'pkg/util/__init__.py', 'pkg/util/strings.py', 'pkg/io/reader.py',
  'src/app/__init__.py', 'src/app/models.py',
  'web/src/client.ts', 'web/src/retry.ts', 'web/src/types/index.ts', 'web/src/view.tsx',
]);
const exists = (file: string) => FILES.has(file);

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

  it('skips absurdly long lines instead of scanning them', () => {
    expect(importedPaths('pkg/core.py', `from pkg.util import ${'x, '.repeat(10_000)}strings`, exists)).toEqual([]);
  });
});

describe('isTestPath', () => {
  it('knows the usual test layouts of Python, TypeScript and Go', () => {
    for (const file of ['tests/test_api.py', 'pkg/tests/helpers.py', 'src/__tests__/a.ts', 'src/a.test.ts', 'src/a.spec.js', 'cmd/root_test.go', 'conftest.py', 'scripts/end-to-end-tests.js', 'internal/testdata/x.go']) {
      expect(isTestPath(file), file).toBe(true);
    }
    for (const file of ['pkg/testing_utils.py', 'src/contest.ts', 'latest/api.py', 'pkg/attestation.py']) {
      expect(isTestPath(file), file).toBe(false);
    }
  });
});
