import fs from 'node:fs';
import path from 'node:path';
import { stateHome } from '../config/state-paths.js';
import type { ToolMode } from './tool-call-codec.js';

/** What codeloop learnt about one (endpoint, model) pair, so it is not asked again on every run. */
export interface EndpointFacts {
  contextWindow?: { tokens: number; source: string };
  toolMode?: { mode: ToolMode; reason: string };
  /** False once the endpoint rejected `stream_options` (usage then comes from the token counter). */
  streamOptions?: boolean;
  /** When these facts were last written (ISO time), for `codeloop doctor`. */
  updatedAt?: string;
}

/**
 * A small JSON file in the state folder (`$XDG_STATE_HOME/codeloop/endpoints.json`) keyed by "baseURL model".
 * `codeloop doctor` asks the endpoint again and overwrites; a broken or missing file is an empty cache.
 */
export class EndpointCache {
  private readonly file: string;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.file = path.join(stateHome(env), 'endpoints.json');
  }

  get(baseURL: string, model: string): EndpointFacts {
    return this.readAll()[key(baseURL, model)] ?? {};
  }

  /** Merges new facts into the entry; written atomically (temp file + rename) so concurrent runs never see half a file. */
  update(baseURL: string, model: string, facts: EndpointFacts): void {
    const all = this.readAll();
    all[key(baseURL, model)] = { ...all[key(baseURL, model)], ...facts, updatedAt: new Date().toISOString() };
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      const temporary = `${this.file}.${process.pid}.tmp`;
      fs.writeFileSync(temporary, `${JSON.stringify(all, null, 2)}\n`);
      fs.renameSync(temporary, this.file);
    } catch {
      // A read-only state folder only costs a probe next time.
    }
  }

  private readAll(): Record<string, EndpointFacts> {
    try {
      const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8'));
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : {};
    } catch {
      return {};
    }
  }
}

function key(baseURL: string, model: string): string {
  return `${baseURL.replace(/\/+$/, '')} ${model}`;
}
