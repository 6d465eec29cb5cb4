import path from 'node:path';

const MAX_LINE_CHARS = 400;
const PYTHON_FROM = /^\s*from\s+(\.*)([\w.]*)\s+import\s+\(?([\w\s,]*)/;
const PYTHON_IMPORT = /^\s*import\s+([\w.]+)/;
const SCRIPT_SPECIFIER = /(?:\bfrom\s+|\brequire\(\s*|\bimport\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]*)['"]/;
const SCRIPT_SUFFIXES = ['', '.ts', '.tsx', '.mts', '.js', '.jsx', '.mjs', '/index.ts', '/index.tsx', '/index.js'];
/** `import "a/b"`, `import x "a/b"`, or a line of an import block: `x "a/b"`. */
const GO_IMPORT = /^\s*(?:import\s+)?(?:[\w.]+\s+)?"([\w./-]+)"\s*$/;

const isWordCharacter = (code: number) => (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;

/**
 * The lines of `text` holding `import` or `require` as a word (the only ones a Python or ECMAScript import can be
 * on), in text order, each once. Found with `indexOf`, which skips a 900 KB module without an import in about a
 * millisecond; a multiline regular expression (`^.*\bimport\b.*$`) backtracks over every line and held the event
 * loop 15–50 ms per such file (test/unit/import-resolution.test.ts).
 */
function importLines(text: string): string[] {
  const lines = new Map<number, number>();
  for (const keyword of ['import', 'require']) {
    // Each line is looked for once: later matches on it are skipped, so no newline is searched for twice.
    let lineEnd = -1;
    for (let at = text.indexOf(keyword); at >= 0; at = text.indexOf(keyword, Math.max(at + keyword.length, lineEnd))) {
      const end = at + keyword.length;
      if ((at > 0 && isWordCharacter(text.charCodeAt(at - 1))) || (end < text.length && isWordCharacter(text.charCodeAt(end)))) continue;
      const start = text.lastIndexOf('\n', at) + 1;
      const newline = text.indexOf('\n', end);
      lineEnd = newline < 0 ? text.length : newline;
      lines.set(start, lineEnd);
    }
  }
  return [...lines].sort(([a], [b]) => a - b).map(([start, end]) => text.slice(start, end));
}

function pythonModule(dir: string, dots: string, dotted: string, exists: (candidate: string) => boolean): string[] {
  // Absolute imports are tried from the root and from a `src/` layout; relative ones from the importing package.
  const bases = dots ? [path.posix.join(dir, ...Array<string>(dots.length - 1).fill('..'))] : ['', 'src'];
  const found: string[] = [];
  for (const base of bases) {
    const module = path.posix.join(base, ...dotted.split('.').filter(Boolean));
    for (const candidate of [`${module}.py`, `${module}/__init__.py`]) if (exists(candidate)) found.push(candidate);
  }
  return found;
}

function pythonImports(dir: string, line: string, exists: (candidate: string) => boolean, found: Set<string>): void {
  const from = PYTHON_FROM.exec(line);
  if (from) {
    const [, dots, dotted, names] = from;
    for (const file of pythonModule(dir, dots, dotted, exists)) found.add(file);
    // `from pkg import mod` may name a submodule.
    for (const name of names.split(',').map((part) => part.trim().split(/\s/)[0]).filter(Boolean)) {
      for (const file of pythonModule(dir, dots, `${dotted}.${name}`, exists)) found.add(file);
    }
    return;
  }
  const plain = PYTHON_IMPORT.exec(line);
  if (plain) for (const file of pythonModule(dir, '', plain[1], exists)) found.add(file);
}

/** The repository folder a Go import path names: the longest trailing run of its components that is a folder with Go files. */
function goImports(importPath: string, goFilesIn: (dir: string) => string[], found: Set<string>): void {
  const parts = importPath.split('/');
  for (let first = 0; first < parts.length; first++) {
    const files = goFilesIn(parts.slice(first).join('/'));
    if (files.length) {
      for (const file of files) found.add(file);
      return;
    }
  }
}

/**
 * Repository files a source file imports, read from its text: Python `import a.b` / `from .a import b`, relative
 * ECMAScript imports (`from './x'`, `require('./x')`), and Go import paths (each names a package, which is a
 * folder: every `.go` file of a folder whose path ends the import path). Packages outside the repository resolve
 * to nothing. `exists` answers whether a repository-relative path is indexed; `goFilesIn` lists the indexed
 * `.go` files of a folder (repository-relative). Lines longer than MAX_LINE_CHARS are skipped, so the cost is
 * linear in the text.
 */
export function importedPaths(
  fromPath: string,
  text: string,
  exists: (candidate: string) => boolean,
  goFilesIn: (dir: string) => string[] = () => [],
): string[] {
  const dir = path.posix.dirname(fromPath);
  const python = fromPath.endsWith('.py') || fromPath.endsWith('.pyi');
  const go = fromPath.endsWith('.go');
  const found = new Set<string>();
  if (go) {
    // Imports come before the first declaration: only that head is read.
    const end = text.search(/^(?:func|type|var|const)\b/m);
    let inBlock = false;
    for (const line of (end < 0 ? text : text.slice(0, end)).split('\n')) {
      if (line.length > MAX_LINE_CHARS) continue;
      if (/^import\s*\(/.test(line)) inBlock = true;
      else if (inBlock && /^\s*\)/.test(line)) inBlock = false;
      else if (inBlock || /^import\s/.test(line)) {
        const importPath = GO_IMPORT.exec(line)?.[1];
        if (importPath) goImports(importPath, goFilesIn, found);
      }
    }
  } else {
    // Only the lines that can import are looked at (a 10,000-line module has a few dozen).
    for (const line of importLines(text)) {
      if (line.length > MAX_LINE_CHARS) continue;
      if (python) {
        pythonImports(dir, line, exists, found);
        continue;
      }
      const specifier = SCRIPT_SPECIFIER.exec(line)?.[1];
      if (!specifier) continue;
      const target = path.posix.normalize(path.posix.join(dir, specifier)).replace(/\.js$/, '');
      const file = SCRIPT_SUFFIXES.map((suffix) => target + suffix).find(exists);
      if (file) found.add(file);
    }
  }
  found.delete(fromPath);
  return [...found];
}
