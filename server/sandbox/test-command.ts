import fs from 'node:fs';
import path from 'node:path';

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
  if (exists('pytest.ini') || exists('pyproject.toml') || exists('setup.cfg') || exists('tox.ini')) return 'python3 -m pytest -q';
  if (exists('go.mod')) return 'go test ./...';
  if (exists('Cargo.toml')) return 'cargo test';
  if (exists('Makefile') && /^test:/m.test(fs.readFileSync(path.join(root, 'Makefile'), 'utf8'))) return 'make test';
  return null;
}
