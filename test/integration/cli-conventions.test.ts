import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { makeStateHome, removeTree } from '../helpers/fixture-tree.js';
import { runCli } from '../helpers/run-cli.js';

const stateHome = makeStateHome();
afterAll(() => removeTree(stateHome));
const cli = (...args: string[]) => runCli(args, { stateHome });

describe('command-line conventions', () => {
  it('prints its version', () => {
    const { version } = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const result = cli(flag);
      expect(result.status).toBe(0);
      expect(result.stdout).toBe(`codeloop ${version}\n`);
    }
  });

  it('has --help for every command, listing its options, and a list of commands', { timeout: 120_000 }, () => {
    const overview = cli('--help');
    expect(overview.status).toBe(0);
    const commands = [...overview.stdout.matchAll(/^ {2}(\w+) {2,}/gm)].map((match) => match[1]);
    expect(commands).toEqual(['index', 'search', 'status', 'run', 'doctor', 'lsp', 'daemon']);
    for (const command of commands) {
      for (const flag of ['--help', '-h']) {
        const result = cli(command, flag);
        expect(result.status, `${command} ${flag}`).toBe(0);
        expect(result.stdout).toMatch(new RegExp(`^usage: codeloop ${command}`));
        expect(result.stdout).toContain('-h, --help');
      }
    }
    expect(cli('search', '--help').stdout).toMatch(/--limit N +at most N results \(1–100000\)/);
    expect(cli('help', 'status').stdout).toMatch(/^usage: codeloop status/);
  });

  it('names the flag and its range when a number is out of range or not a number', () => {
    const cases: [string[], string][] = [
      [['search', '--limit', '1000000', 'x'], '--limit takes a whole number from 1 to 100000, got "1000000"'],
      [['search', '--limit', '2.5', 'x'], '--limit takes a whole number from 1 to 100000, got "2.5"'],
      [['run', '--max-turns', '0', 'task'], '--max-turns takes a whole number from 1 to 1000, got "0"'],
      [['daemon', '--idle-seconds', 'soon'], '--idle-seconds takes a whole number from 0 to 31536000, got "soon"'],
    ];
    for (const [args, message] of cases) {
      const result = cli(...args);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr).toBe(`codeloop: ${message}\n(codeloop ${args[0]} --help shows the usage)\n`);
    }
  });

  it('points an unknown flag or command at the right help', () => {
    const flag = cli('status', '--frobnicate');
    expect(flag.status).toBe(2);
    expect(flag.stderr).toMatch(/^codeloop: Unknown option '--frobnicate'.*\n\(codeloop status --help shows the usage\)\n$/s);
    const command = cli('serach', 'x');
    expect(command.status).toBe(2);
    expect(command.stderr).toBe('codeloop: unknown command "serach"\n(codeloop --help shows the usage)\n');
  });
});
