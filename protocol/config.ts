import { z } from 'zod';

/** Index settings: what the crawler reads and where the database lives. */
export const IndexConfigSchema = z
  .object({
    /** Extra gitignore-style patterns excluded everywhere (on top of .gitignore/.ignore/.git/info/exclude). */
    exclude: z.array(z.string()).default(['node_modules/', '.git/']),
    /** Files larger than this many bytes are not indexed (like `rg --max-filesize`). */
    maxFileSize: z.number().int().positive().default(1024 * 1024),
    /** Index dotfiles and dot-directories (ripgrep's `--hidden`). `.git/` stays excluded by `exclude`. */
    includeHidden: z.boolean().default(true),
    /** Honour .gitignore files outside a git repository too (ripgrep's `--no-require-git`); off like rg and git. */
    gitignoreOutsideGit: z.boolean().default(false),
    /** When the file watcher cannot run (the system's watch limit), the tree is rescanned this often instead. */
    rescanSeconds: z.number().int().positive().default(300),
    /** Folder that holds the index database; default `$XDG_STATE_HOME/codeloop/<hash of root>/`. */
    stateDir: z.string().optional(),
  })
  .strict();

export type IndexConfig = z.infer<typeof IndexConfigSchema>;

/** The shared daemon (read from the user config only: one daemon serves every workspace). */
export const DaemonConfigSchema = z
  .object({
    /** Stop after this many seconds with no client and no indexing; 0 keeps it running. */
    idleSeconds: z.number().int().nonnegative().default(900),
  })
  .strict();

/** The OpenAI-compatible endpoint every model call goes to (OpenAI, Ollama, llama.cpp, vLLM, LM Studio…). */
export const ModelConfigSchema = z
  .object({
    /** The endpoint; when absent, `OPENAI_BASE_URL` from the environment (the openai SDK's convention), else OpenAI's. */
    baseURL: z.string().url().optional(),
    model: z.string().min(1).default('gpt-4o-mini'),
    /** Name of the environment variable holding the API key (the key itself never goes in config files). */
    apiKeyEnv: z.string().min(1).default('OPENAI_API_KEY'),
    timeoutSeconds: z.number().positive().default(120),
    /** Retries on 429/5xx/network errors, exponential backoff with jitter, honouring retry-after. */
    maxRetries: z.number().int().nonnegative().default(4),
    /** Stream answers (server-sent events), so progress shows the model working; off for endpoints that cannot. */
    stream: z.boolean().default(true),
    /**
     * The model's context window in tokens. When absent it is asked of the endpoint (vLLM, llama.cpp, Ollama,
     * LM Studio each publish it), else 8192 is assumed; `codeloop doctor` shows which.
     */
    contextWindow: z.number().int().positive().optional(),
    /**
     * How tools reach the model: `native` (the API's `tools`), `prompted` (described in the system prompt, calls
     * read from the answer's text, for endpoints without tool support), or `auto`: probed once per endpoint and
     * model, and cached (`codeloop doctor` probes again).
     */
    toolCalls: z.enum(['auto', 'native', 'prompted']).default('auto'),
    /** US dollars per million tokens, for the cost budget and reports. */
    price: z.object({ input: z.number().nonnegative().default(0), output: z.number().nonnegative().default(0) }).strict().default({ input: 0, output: 0 }),
  })
  .strict();
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

/** Budgets and behaviour of agent sessions. */
export const AgentConfigSchema = z
  .object({
    maxTurns: z.number().int().positive().default(30),
    maxTokens: z.number().int().positive().default(400_000),
    maxWallSeconds: z.number().positive().default(900),
    maxCostUsd: z.number().nonnegative().default(2),
    /** Test → repair rounds before the session stops with its best proposal. */
    maxRepairs: z.number().int().nonnegative().default(3),
    autoApprovePlan: z.boolean().default(false),
    /** A reviewer pass: before the tests run, the model reviews the diff and its findings go back to work. */
    review: z.boolean().default(false),
    /** Test command; detected from the project (npm test, pytest, go test, cargo test, make test) when absent. */
    testCommand: z.string().min(1).optional(),
    commandTimeoutSeconds: z.number().positive().default(300),
    /** Commands run_command may run: a command must be one of these or start with one and a space. */
    allowedCommands: z.array(z.string().min(1)).default([]),
    /** Proposals the user need not approve: small diffs touching no protected file. 0 lines = always ask. */
    autoApply: z.object({
      maxChangedLines: z.number().int().nonnegative().default(0),
      protectedGlobs: z.array(z.string()).default(['.github/**', '**/auth/**', '**/*lock*', '**/.env*', '**/*.pem', '**/*.key']),
    }).strict().default({ maxChangedLines: 0, protectedGlobs: ['.github/**', '**/auth/**', '**/*lock*', '**/.env*', '**/*.pem', '**/*.key'] }),
  })
  .strict();
export type AgentConfig = z.infer<typeof AgentConfigSchema>;

/** The whole user configuration: `$XDG_CONFIG_HOME/codeloop/config.json` merged with `<root>/.codeloop.json`. */
export const ConfigSchema = z
  .object({
    index: IndexConfigSchema.default(IndexConfigSchema.parse({})),
    daemon: DaemonConfigSchema.default(DaemonConfigSchema.parse({})),
    model: ModelConfigSchema.default(ModelConfigSchema.parse({})),
    agent: AgentConfigSchema.default(AgentConfigSchema.parse({})),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
