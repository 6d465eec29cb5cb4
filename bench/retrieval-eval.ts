/**
 * Ranked-retrieval quality: `npm run bench:retrieval [-- QUESTIONS.json [CORPUS_DIR]]`.
 * Indexes the corpus, asks each question, and reports where the first expected file ranks: recall@1, @5, @10
 * and mean reciprocal rank (MRR@10).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IndexConfigSchema } from '../protocol/config.js';
import { WorkspaceIndex } from '../server/index/workspace-index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const questionsFile = process.argv[2] ?? path.join(repoRoot, 'bench/retrieval-questions.json');
const spec = JSON.parse(fs.readFileSync(questionsFile, 'utf8')) as { corpus: string; questions: { question: string; expected: string[] }[] };
const corpus = process.argv[3] ?? path.join(repoRoot, spec.corpus);

const state = fs.mkdtempSync(path.join(os.tmpdir(), 'codeloop-retrieval-'));
const index = WorkspaceIndex.open(corpus, IndexConfigSchema.parse({ exclude: ['.git/'] }), path.join(state, 'index.db'));
await index.sync();

let hitsAt1 = 0;
let hitsAt5 = 0;
let hitsAt10 = 0;
let reciprocal = 0;
process.stdout.write(`| question | first expected file's rank | top result |\n|---|---|---|\n`);
for (const { question, expected } of spec.questions) {
  const ranked = index.rankFiles(question, 10).map((file) => file.path);
  const rank = ranked.findIndex((file) => expected.includes(file)) + 1;
  if (rank === 1) hitsAt1++;
  if (rank >= 1 && rank <= 5) hitsAt5++;
  if (rank >= 1) hitsAt10++;
  if (rank >= 1) reciprocal += 1 / rank;
  process.stdout.write(`| ${question.slice(0, 70)}… | ${rank || '>10'} | ${ranked[0] ?? '-'} |\n`);
}
const n = spec.questions.length;
process.stdout.write(`\n${n} questions on ${corpus}: recall@1 ${(hitsAt1 / n).toFixed(2)}, recall@5 ${(hitsAt5 / n).toFixed(2)}, recall@10 ${(hitsAt10 / n).toFixed(2)}, MRR@10 ${(reciprocal / n).toFixed(2)}\n`);
await index.close();
fs.rmSync(state, { recursive: true, force: true });
