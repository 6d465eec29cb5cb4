import path from 'node:path';

/** File extension → language id (LSP language identifiers where one exists). */
const LANGUAGE_BY_EXTENSION: Record<string, string> = {
  '.ts': 'typescript', '.mts': 'typescript', '.cts': 'typescript', '.tsx': 'typescriptreact',
  '.js': 'javascript', '.mjs': 'javascript', '.cjs': 'javascript', '.jsx': 'javascriptreact',
  '.py': 'python', '.pyi': 'python', '.go': 'go', '.rs': 'rust', '.java': 'java', '.cs': 'csharp',
  '.cpp': 'cpp', '.cc': 'cpp', '.cxx': 'cpp', '.hpp': 'cpp', '.hh': 'cpp', '.hxx': 'cpp',
  '.c': 'c', '.h': 'c', '.rb': 'ruby', '.php': 'php', '.sh': 'shellscript', '.bash': 'shellscript',
  '.zsh': 'shellscript', '.lua': 'lua', '.el': 'emacs-lisp', '.kt': 'kotlin', '.swift': 'swift',
  '.scala': 'scala', '.md': 'markdown', '.json': 'json', '.yaml': 'yaml', '.yml': 'yaml', '.toml': 'toml',
  '.html': 'html', '.css': 'css', '.scss': 'scss', '.sql': 'sql', '.S': 'asm', '.s': 'asm',
  '.rst': 'restructuredtext', '.txt': 'plaintext', '.mk': 'makefile',
};

const LANGUAGE_BY_NAME: Record<string, string> = {
  Makefile: 'makefile', Kbuild: 'makefile', Kconfig: 'kconfig', Dockerfile: 'dockerfile',
};

export function languageOf(relativePath: string): string | null {
  const name = path.posix.basename(relativePath);
  return LANGUAGE_BY_NAME[name] ?? LANGUAGE_BY_EXTENSION[path.posix.extname(name)] ?? null;
}
