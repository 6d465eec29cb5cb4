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
    /**
     * How a session's shadow is made: `overlay` (the user's tree as the read-only lower layer of an overlay mount,
     * the session keeping only what changed), `clone` (a copy-on-write copy: btrfs, XFS), `copy` (a plain copy).
     * `auto` probes once and takes the first that works here; `codeloop doctor` and the session's events say which.
     */
    shadow: z.enum(['auto', 'overlay', 'clone', 'copy']).default('auto'),
    /**
     * Paths under the home folder that commands in the sandbox cannot see, on top of the built-in secret stores
     * (`~/.ssh`, `~/.aws`, `~/.gnupg`, `~/.netrc`, cloud CLIs' credentials, shell history, browser profiles, password
     * stores: SECRET_HOME_PATHS in server/sandbox/home-access.ts). Relative to the home folder; they add to the
     * built-in list, never replace it, so a project's `.codeloop.json` cannot open a secret store.
     */
    hiddenHomePaths: z.array(z.string().min(1)).default([]),
    /** Commands run_command may run: a command must be one of these or start with one and a space. */
    allowedCommands: z.array(z.string().min(1)).default([]),
    /**
     * The context policy, as shares of the model's context window: old tool results are elided past `elideAt`,
     * the conversation is compacted (rebuilt from the task, plan, diff, last test run and a summary) past
     * `compactAt`, and no request goes out above `maxRequestShare`. With a window larger than `workingTokens`
     * the policy works within `workingTokens` instead: every request resends the conversation, so a 128k window
     * used to the full costs four times as much per turn as 32k.
     */
    context: z.object({
      elideAt: z.number().gt(0).lt(1).default(0.5),
      compactAt: z.number().gt(0).lt(1).default(0.75),
      maxRequestShare: z.number().gt(0).max(1).default(0.8),
      workingTokens: z.number().int().positive().default(32_768),
    }).strict().default({ elideAt: 0.5, compactAt: 0.75, maxRequestShare: 0.8, workingTokens: 32_768 }),
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
