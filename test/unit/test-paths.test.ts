import { describe, expect, it } from 'vitest';
import { isTestPath } from '../../server/index/test-paths.js';

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
