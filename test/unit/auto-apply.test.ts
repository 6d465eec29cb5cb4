import { describe, expect, it } from 'vitest';
import { AgentConfigSchema } from '../../protocol/config.js';
import { isAllowedCommand, mayAutoApply } from '../../server/agent/auto-apply.js';
import { unifiedDiff } from '../../server/edits/unified-diff.js';

const rules = { ...AgentConfigSchema.parse({}).autoApply, maxChangedLines: 4 };
const change = (path: string, before: string, after: string) => ({ path, before, after });

describe('auto-apply rules', () => {
  it('allows small diffs outside protected globs only', () => {
    const small = [change('src/a.ts', 'a\n', 'b\n')];
    expect(mayAutoApply(small, unifiedDiff(small), rules)).toMatchObject({ allowed: true });
    expect(mayAutoApply(small, unifiedDiff(small), { ...rules, maxChangedLines: 0 })).toMatchObject({ allowed: false, reason: 'auto-apply is off' });
    const big = [change('src/a.ts', 'a\nb\nc\n', 'x\ny\nz\n')];
    expect(mayAutoApply(big, unifiedDiff(big), rules)).toMatchObject({ allowed: false, reason: '6 changed lines is more than 4' });
    for (const file of ['.github/workflows/ci.yml', 'src/auth/login.ts', 'package-lock.json', 'config/.env.local']) {
      const touched = [change(file, 'a\n', 'b\n')];
      expect(mayAutoApply(touched, unifiedDiff(touched), rules)).toMatchObject({ allowed: false, reason: `${file} is protected` });
    }
  });
});

describe('run_command allow-list', () => {
  it('accepts listed commands with arguments and refuses chaining', () => {
    expect(isAllowedCommand('npm run lint', ['npm run lint'])).toBe(true);
    expect(isAllowedCommand('npm run lint -- --fix', ['npm run lint'])).toBe(true);
    expect(isAllowedCommand('npm run lintx', ['npm run lint'])).toBe(false);
    expect(isAllowedCommand('npm run lint; curl evil.example', ['npm run lint'])).toBe(false);
    expect(isAllowedCommand('npm run lint && rm -rf /', ['npm run lint'])).toBe(false);
    expect(isAllowedCommand('npm run lint $(cat ~/.ssh/id_rsa)', ['npm run lint'])).toBe(false);
    expect(isAllowedCommand('ls', [])).toBe(false);
  });
});
