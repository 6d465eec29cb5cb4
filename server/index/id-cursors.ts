import type { IdCursor } from './posting-blocks.js';

/** A stream with no ids: a gram no file holds. */
export const NO_IDS: IdCursor = { size: 0, seek: () => Infinity };

/**
 * Streams whose id ranges follow one another (a gram's lists in the segments, oldest first: gram-postings.ts),
 * read as one.
 */
export class ConcatCursor implements IdCursor {
  readonly size: number;
  private part = 0;

  constructor(private readonly parts: IdCursor[]) {
    this.size = parts.reduce((sum, part) => sum + part.size, 0);
  }

  seek(target: number): number {
    for (; this.part < this.parts.length; this.part++) {
      const id = this.parts[this.part].seek(target);
      if (id !== Infinity) return id;
    }
    return Infinity;
  }
}

/**
 * The ids in every stream. Leapfrog: the smallest stream proposes an id, each other stream seeks it, and a
 * stream that overshoots proposes its own — so the work follows the rarest stream, and long lists are only
 * decoded around its ids (posting-blocks.ts).
 */
export class AndCursor implements IdCursor {
  readonly size: number;
  private readonly parts: IdCursor[];

  /** `parts` at least one. */
  constructor(parts: IdCursor[]) {
    this.parts = [...parts].sort((a, b) => a.size - b.size);
    this.size = this.parts[0].size;
  }

  seek(target: number): number {
    let id = target;
    for (let k = 0; k < this.parts.length;) {
      const found = this.parts[k].seek(id);
      if (found === id) {
        k++;
      } else if (found === Infinity) {
        return Infinity;
      } else {
        // The smallest stream already stands on `found` when it proposed it; any other restarts the round there.
        id = found;
        k = k === 0 ? 1 : 0;
      }
    }
    return id;
  }
}

/** The ids in any of the streams. */
export class OrCursor implements IdCursor {
  readonly size: number;

  constructor(private readonly parts: IdCursor[]) {
    this.size = parts.reduce((sum, part) => sum + part.size, 0);
  }

  seek(target: number): number {
    let least = Infinity;
    for (const part of this.parts) least = Math.min(least, part.seek(target));
    return least;
  }
}

/** Every id of a stream, ascending. */
export function allIds(cursor: IdCursor): number[] {
  const ids: number[] = [];
  for (let id = cursor.seek(0); id !== Infinity; id = cursor.seek(id + 1)) ids.push(id);
  return ids;
}
