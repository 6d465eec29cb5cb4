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

/**
 * A harmless command that starts a command's interpreter or tool the way the command would (`python3 -m pytest
 * -q` → `python3 -m pytest --version`). Leading `VAR=value` words are kept.
 */
function interpreterCheck(testCommand: string): string {
  const words = testCommand.trim().split(/\s+/);
  const assignments = words.filter((word, i) => words.slice(0, i + 1).every((w) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(w)));
  const [program, ...rest] = words.slice(assignments.length);
  const module = rest[0] === '-m' && rest[1] ? ['-m', rest[1]] : [];
  return [...assignments, program, ...module, program === 'go' && !module.length ? 'version' : '--version'].join(' ');
}

/**
 * Harmless commands that start the test command's toolchain: its program's `--version`, and for `npm/yarn/pnpm
 * test` also the first program of the package's test script, found as the package manager would (with
 * `node_modules/.bin` first on PATH). `codeloop doctor` runs them in the sandbox to show the toolchain starts there.
 */
export function interpreterChecks(root: string, testCommand: string): string[] {
  const checks = [interpreterCheck(testCommand)];
  if (/^(npm|yarn|pnpm) test$/.test(testCommand.trim())) {
    try {
      const script = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts?.test;
      const first = script?.split(/&&|\|\||[;|&]/)[0].trim();
      if (first) checks.push(`PATH="$PWD/node_modules/.bin:$PATH" ${interpreterCheck(first)}`);
    } catch {
      // no readable package.json: the package manager's own check stands alone
    }
  }
  return checks;
}
