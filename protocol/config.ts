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

/** The whole user configuration: `$XDG_CONFIG_HOME/codeloop/config.json` merged with `<root>/.codeloop.json`. */
export const ConfigSchema = z
  .object({
    index: IndexConfigSchema.default(IndexConfigSchema.parse({})),
    daemon: DaemonConfigSchema.default(DaemonConfigSchema.parse({})),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
