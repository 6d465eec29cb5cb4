import fs from 'node:fs';
import path from 'node:path';

/** pytest's default discovery names (`python_files = test_*.py *_test.py`, https://docs.pytest.org/en/stable/reference/reference.html#confval-python_files). */
const PYTEST_FILE = /^(test_.*|.*_test)\.py$/;

/** Whether the root, or its `tests/`/`test/` folder, holds a file pytest would collect. */
function hasPythonTests(root: string): boolean {
  return ['.', 'tests', 'test'].some((folder) => {
    try {
      return fs.readdirSync(path.join(root, folder)).some((name) => PYTEST_FILE.test(name));
    } catch {
      return false;
    }
  });
}

/** The project's test command, detected from what the workspace holds (null when nothing says how to test). */
export function detectTestCommand(root: string): string | null {
  const exists = (file: string) => fs.existsSync(path.join(root, file));
  if (exists('package.json')) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
      if (pkg.scripts?.test) {
        if (exists('pnpm-lock.yaml')) return 'pnpm test';
        if (exists('yarn.lock')) return 'yarn test';
        return 'npm test';
      }
    } catch {
      // not JSON: fall through to the other detectors
    }
  }
  if (['pytest.ini', 'pyproject.toml', 'setup.cfg', 'tox.ini', 'setup.py'].some(exists) || hasPythonTests(root)) return 'python3 -m pytest -q';
  if (exists('go.mod')) return 'go test ./...';
  if (exists('Cargo.toml')) return 'cargo test';
  if (exists('Makefile') && /^test:/m.test(fs.readFileSync(path.join(root, 'Makefile'), 'utf8'))) return 'make test';
  return null;
}
