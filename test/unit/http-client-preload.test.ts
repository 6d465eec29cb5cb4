import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('loading the HTTP client before the daemon serves', () => {
  it('loads Node\'s fetch implementation (undici), which Node otherwise loads inside the first model request', () => {
    // A fresh process, as the daemon is: what its modules load is read from Node's own list of loaded internals.
    const script = `
      const { loadHttpClient } = await import(${JSON.stringify(new URL('../../dist/server/model/model-client.js', import.meta.url).href)});
      const undici = () => process.moduleLoadList.some((name) => name.includes('internal/deps/undici'));
      const before = undici();
      loadHttpClient();
      console.log(JSON.stringify({ before, after: undici() }));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ before: false, after: true });
  });
});
