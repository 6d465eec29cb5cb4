import { describe, expect, it } from 'vitest';
import { isAuxiliaryPath, isTestPath } from '../../server/index/test-paths.js';

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

describe('isAuxiliaryPath', () => {
  it('knows documentation, examples, scripts, vendored code and generated version files, and not the product', () => {
    for (const file of ['docs/examples/models.py', 'doc/conf.py', 'examples/basic/main.go', 'misc/perf_compare.py', 'scripts/build.js', 'benchmarks/run.py', 'mypy/typeshed/stdlib/argparse.pyi', 'vendor/github.com/x/y.go', 'src/third_party/lib.c', 'mypyc/external/googletest/src/gtest.cc', 'versioneer.py', 'dask/_version.py']) {
      expect(isAuxiliaryPath(file), file).toBe(true);
    }
    for (const file of ['conan/tools/cmake/cmake.py', 'pydantic/main.py', 'internal/js_parser/js_parser.go', 'src/documents.ts', 'pkg/examples_test_helper.py', 'pkg/external_api.py', 'conans/model/version.py']) {
      expect(isAuxiliaryPath(file), file).toBe(false);
    }
  });
});
