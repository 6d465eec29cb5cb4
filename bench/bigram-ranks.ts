/**
 * Prints the bigram ranking that server/index/trigram-tokens.ts embeds as BIGRAM_RANKS:
 * `npx tsx bench/bigram-ranks.ts DIR…` — the 256 most frequent bigrams (ASCII case folded, no line breaks) over
 * the first 6,000 text files of each directory, each directory weighted equally, as one JSON string of pairs.
 */
import fs from 'node:fs';
import path from 'node:path';

const FILES_PER_TREE = 6000;
const RANKED = 256;

function treeFrequencies(root: string): Float64Array {
  const counts = new Float64Array(1 << 14);
  let files = 0;
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && files < FILES_PER_TREE) {
        const text = fs.readFileSync(full, 'latin1');
        if (text.length > 1_000_000 || text.includes('\0')) continue;
        files++;
        let previous = -1;
        for (let i = 0; i < text.length; i++) {
          let code = text.charCodeAt(i);
          if (code >= 65 && code <= 90) code |= 0x20;
          if (code >= 128) code = -1;
          if (previous >= 0 && code >= 0 && previous !== 10 && code !== 10) counts[(previous << 7) | code]++;
          previous = code;
        }
      }
    }
  };
  walk(root);
  const total = counts.reduce((sum, count) => sum + count, 0);
  return counts.map((count) => count / total);
}

const combined = new Float64Array(1 << 14);
for (const root of process.argv.slice(2)) treeFrequencies(root).forEach((share, bigram) => { combined[bigram] += share; });
const ranked = [...combined.keys()].filter((bigram) => combined[bigram] > 0).sort((a, b) => combined[b] - combined[a]).slice(0, RANKED);
process.stdout.write(`${JSON.stringify(ranked.map((bigram) => String.fromCharCode(bigram >> 7, bigram & 127)).join(''))}\n`);
