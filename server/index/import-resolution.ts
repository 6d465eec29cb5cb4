import path from 'node:path';

/**
 * Repository files a source file imports, read from its text: Python `import a.b` / `from .a import b`, and
 * relative ECMAScript imports (`from './x'`, `require('./x')`). Other imports (packages outside the repository,
 * Go import paths) resolve to nothing. `exists` answers whether a repository-relative path is indexed.
 * Lines longer than MAX_LINE_CHARS are skipped, so the cost is linear in the text.
 */
const MAX_LINE_CHARS = 400;
const PYTHON_FROM = /^\s*from\s+(\.*)([\w.]*)\s+import\s+\(?([\w\s,]*)/;
const PYTHON_IMPORT = /^\s*import\s+([\w.]+)/;
const SCRIPT_SPECIFIER = /(?:\bfrom\s+|\brequire\(\s*|\bimport\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]*)['"]/;
const SCRIPT_SUFFIXES = ['', '.ts', '.tsx', '.mts', '.js', '.jsx', '.mjs', '/index.ts', '/index.tsx', '/index.js'];

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

export function importedPaths(fromPath: string, text: string, exists: (candidate: string) => boolean): string[] {
  const dir = path.posix.dirname(fromPath);
  const python = fromPath.endsWith('.py') || fromPath.endsWith('.pyi');
  const found = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.length > MAX_LINE_CHARS) continue;
    if (python) {
      const from = PYTHON_FROM.exec(line);
      if (from) {
        const [, dots, dotted, names] = from;
        for (const file of pythonModule(dir, dots, dotted, exists)) found.add(file);
        // `from pkg import mod` may name a submodule.
        for (const name of names.split(',').map((part) => part.trim().split(/\s/)[0]).filter(Boolean)) {
          for (const file of pythonModule(dir, dots, `${dotted}.${name}`, exists)) found.add(file);
        }
        continue;
      }
      const plain = PYTHON_IMPORT.exec(line);
      if (plain) for (const file of pythonModule(dir, '', plain[1], exists)) found.add(file);
      continue;
    }
    const specifier = SCRIPT_SPECIFIER.exec(line)?.[1];
    if (!specifier) continue;
    const target = path.posix.normalize(path.posix.join(dir, specifier)).replace(/\.js$/, '');
    const file = SCRIPT_SUFFIXES.map((suffix) => target + suffix).find(exists);
    if (file) found.add(file);
  }
  found.delete(fromPath);
  return [...found];
}
