import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CodeloopError } from '../../server/errors.js';
import { folderSandbox, probeIsolation, runCommand, scrubbedEnvironment } from '../../server/sandbox/command-runner.js';
import { hiddenPaths } from '../../server/sandbox/home-access.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codeloop-run-'));
const env = scrubbedEnvironment(dir, { ...process.env, OPENAI_API_KEY: 'sk-secret-value' });
const limits = { timeoutMs: 3000, outputBytes: 1000, fileSizeBytes: 1024 * 1024, processes: 64 };

describe('sandboxed command runner', () => {
  it('runs a command and reports its exit code and output', async () => {
    const result = await runCommand('echo hello; exit 3', dir, env, limits);
    expect(result).toMatchObject({ exitCode: 3, timedOut: false, output: 'hello\n' });
  });

  it('kills a command that runs too long, with its children', async () => {
    const result = await runCommand('(sleep 30 &) ; sleep 30', dir, env, { ...limits, timeoutMs: 300 });
    expect(result.timedOut).toBe(true);
    expect(result.durationMs).toBeLessThan(3000);
  });

  // SANDBOX_OUTPUT_MB sets the flood (default 10; the reliability run uses 1,024).
  const floodMb = Number(process.env.SANDBOX_OUTPUT_MB ?? 10);
  it(`caps ${floodMb} MB of output, keeping head and tail`, { timeout: 10_000 + floodMb * 100 }, async () => {
    const result = await runCommand(`yes line | head -c ${floodMb * 1_000_000}; echo END`, dir, env, { ...limits, timeoutMs: 5000 + floodMb * 50 });
    expect(result.timedOut).toBe(false);
    expect(result.droppedBytes).toBeGreaterThan(floodMb * 900_000);
    expect(result.output).toMatch(/^line\n/);
    expect(result.output).toMatch(/bytes of output cut/);
    expect(result.output.trimEnd().endsWith('END')).toBe(true);
  });

  it('does not pass secrets from the environment', async () => {
    const result = await runCommand('env', dir, env, limits);
    expect(result.output).not.toContain('sk-secret-value');
    expect(result.output).toContain(`HOME=${dir}`);
  });

  it('has no network where the machine allows a network namespace', async () => {
    const result = await runCommand('node -e "require(\'net\').connect(80, \'1.1.1.1\').on(\'error\', (e) => { console.log(e.code); process.exit(7); })"', dir, env, limits);
    if (probeIsolation().network) expect(result.exitCode).toBe(7);
    else expect(probeIsolation().network).toBe(false);
  });

  it('cannot write outside its folder where bubblewrap works', async () => {
    const outside = fs.mkdtempSync(path.join(os.homedir(), '.codeloop-outside-'));
    try {
      const result = await runCommand(`echo inside > ok.txt && echo escaped > ${outside}/escaped.txt; echo status $?`, dir, env, limits);
      if (!probeIsolation().filesystem) return expect(probeIsolation().filesystem).toBe(false);
      expect(fs.readFileSync(path.join(dir, 'ok.txt'), 'utf8')).toBe('inside\n');
      expect(fs.existsSync(path.join(outside, 'escaped.txt'))).toBe(false);
      expect(result.output).toMatch(/Read-only file system|No such file/);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('reads toolchains in the home folder but not its secret stores, and cannot write there, where bubblewrap works', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'codeloop-home-'));
    const files: Record<string, string> = {
      '.ssh/id_rsa': 'SSH KEY', '.aws/credentials': 'AWS KEY', '.netrc': 'NETRC PASSWORD', '.bash_history': 'HISTORY LINE',
      '.config/gh/hosts.yml': 'GH TOKEN', '.docker/config.json': 'DOCKER AUTH', '.kube/config': 'KUBE TOKEN', '.private/token': 'EXTRA SECRET',
      '.local/bin/mytool': '#!/bin/sh\necho mytool ran\n',
    };
    for (const [relative, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(home, relative)), { recursive: true });
      fs.writeFileSync(path.join(home, relative), text, { mode: 0o755 });
    }
    // A store reached through a symlink is hidden where it really is.
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'codeloop-gnupg-'));
    fs.writeFileSync(path.join(elsewhere, 'secring'), 'GPG KEY');
    fs.symlinkSync(elsewhere, path.join(home, '.gnupg'));
    try {
      const spec = { ...folderSandbox(dir, home), hidden: hiddenPaths(home, ['.private'], []) };
      const reads = Object.keys(files).filter((file) => !file.includes('mytool')).map((file) => `cat ${home}/${file}`).join('; ');
      const result = await runCommand(`${reads}; cat ${home}/.gnupg/secring; mytool; echo cache > ${home}/.cache-file; echo status $?`,
        spec, { ...env, HOME: home, PATH: `${home}/.local/bin:${process.env.PATH}` }, limits);
      if (!probeIsolation().filesystem) return expect(probeIsolation().filesystem).toBe(false);
      for (const secret of ['SSH KEY', 'AWS KEY', 'NETRC PASSWORD', 'HISTORY LINE', 'GH TOKEN', 'DOCKER AUTH', 'KUBE TOKEN', 'EXTRA SECRET', 'GPG KEY']) {
        expect(result.output).not.toContain(secret);
      }
      expect(result.output).toContain('mytool ran');
      expect(result.output).toMatch(/Read-only file system/);
      expect(fs.existsSync(path.join(home, '.cache-file'))).toBe(false);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('rejects when the sandbox itself cannot be set up, naming why; a command failing on its own is a result', async () => {
    if (!probeIsolation().filesystem) return expect(probeIsolation().filesystem).toBe(false);
    // A writable folder that is gone by the time the command runs (a cleaner emptied /tmp): bubblewrap refuses.
    const gone = path.join(dir, 'gone-cache');
    const failure = await runCommand('echo ran', { ...folderSandbox(dir), writable: [gone] }, env, limits).then(() => null, (error: unknown) => error);
    expect(failure).toBeInstanceOf(CodeloopError);
    expect(failure).toMatchObject({ code: 'sandboxUnavailable' });
    expect((failure as Error).message).toBe(`the sandbox could not be set up to run "echo ran", so it did not run: bwrap: Can't find source path ${gone}: No such file or directory; \`codeloop doctor\` checks the sandbox`);
    // Exit statuses 1 and 125 of the command's own are its result (git bisect's 125 "skip" among them).
    expect(await runCommand('echo failing >&2; exit 1', dir, env, limits)).toMatchObject({ exitCode: 1, output: 'failing\n' });
    expect(await runCommand('echo "mount: not mine"; exit 125', dir, env, limits)).toMatchObject({ exitCode: 125 });
  });

  it('rejects when an overlay mount fails inside the sandbox (the command never ran)', async () => {
    if (!probeIsolation().filesystem) return expect(probeIsolation().filesystem).toBe(false);
    const layers = fs.mkdtempSync(path.join(os.tmpdir(), 'codeloop-layers-'));
    try {
      // overlayfs refuses a work folder on another file system than its upper one: here, one that does not exist.
      const spec = { ...folderSandbox(dir), source: { kind: 'overlay' as const, lowers: [dir], upper: path.join(layers, 'upper'), work: path.join(layers, 'missing', 'work') } };
      fs.mkdirSync(spec.source.upper);
      const failure = await runCommand('echo ran', spec, env, limits).then(() => null, (error: unknown) => error);
      expect(failure).toMatchObject({ code: 'sandboxUnavailable', message: expect.stringMatching(/^the sandbox could not be set up to run "echo ran", so it did not run: mount: /) });
    } finally {
      fs.rmSync(layers, { recursive: true, force: true });
    }
  });

  it('contains a process storm: the time limit kills the whole group, no orphan survives', async () => {
    const result = await runCommand('for i in $(seq 50); do (sleep 7.25 &); done; sleep 30', dir, env, { ...limits, timeoutMs: 500 });
    expect(result.timedOut).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const survivors = spawnSync('pgrep', ['-f', 'sleep 7.25'], { encoding: 'utf8' }).stdout.trim();
    expect(survivors).toBe('');
  });
});
