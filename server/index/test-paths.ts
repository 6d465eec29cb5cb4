/**
 * Whether a repository-relative path is a test (or test data): a `test`/`tests`/`__tests__`/`testing`/`testdata`
 * folder, or a file named by the usual conventions (`test_x.py`, `x_test.py`, `x_test.go`, `x.test.ts`,
 * `x.spec.js`, `conftest.py`).
 */
const TEST_FOLDER = /(?:^|\/)(?:tests?|__tests__|testing|testdata|test-data|test_data|spec|specs|e2e)\//i;
const TEST_FILE = /(?:^|\/)(?:test_[^/]*|[^/]*_test\.\w+|[^/]*[.-](?:tests?|spec)\.\w+|conftest\.py)$/i;

export function isTestPath(relativePath: string): boolean {
  return TEST_FOLDER.test(relativePath) || TEST_FILE.test(relativePath);
}

/**
 * Code beside the product that is rarely where a reported bug lives: documentation and its examples, examples,
 * benchmarks, maintenance scripts (`misc/`, `scripts/`), vendored third-party code or stubs (`vendor/`,
 * `third_party/`, `external/`, `typeshed/`), and generated version files (versioneer's `versioneer.py` and
 * `_version.py`: long, and full of every common word about versions, commands and files).
 */
const AUXILIARY_FOLDER = /(?:^|\/)(?:docs?|examples?|benchmarks?|bench|misc|scripts|vendor|vendored|third[_-]party|external|typeshed)\//i;
const GENERATED_FILE = /(?:^|\/)(?:versioneer\.py|_version\.py)$/;

export function isAuxiliaryPath(relativePath: string): boolean {
  return AUXILIARY_FOLDER.test(relativePath) || GENERATED_FILE.test(relativePath);
}
