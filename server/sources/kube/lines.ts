// Applies a stream's cursor to framed lines: reads each line's stamp, drops what a resumed request sent
// again, and moves the cursor past the rest. The result is a batch body in the shape SourceBatch wants.
import type {Framed} from '../frame';
import {advance, type Cursor, type ResumeFilter} from './resume';
import {lineTime} from './timestamp';

export interface Kept {
  data: Buffer;
  lines: number;
  cut: number[];
  /** Lines a resumed request sent again and that were dropped. */
  dropped: number;
}

export function keepNew(framed: Framed, cursor: Cursor, filter: ResumeFilter | null): Kept {
  const data = framed.data;
  const cut = new Set(framed.cut);
  const parts: Buffer[] = [];
  const keptCut: number[] = [];
  let kept = 0;
  let dropped = 0;
  let runStart = 0;
  let s = 0;
  let index = 0;
  while (s < data.length) {
    const nl = data.indexOf(10, s);
    const end = nl < 0 ? data.length : nl + 1;
    const t = lineTime(data, s, end);
    if (filter !== null && !filter.accept(t)) {
      if (s > runStart) parts.push(data.subarray(runStart, s));
      runStart = end;
      dropped += 1;
    } else {
      advance(cursor, t);
      if (cut.has(index)) keptCut.push(kept);
      kept += 1;
    }
    index += 1;
    s = end;
  }
  if (dropped === 0) return {data, lines: kept, cut: keptCut, dropped};
  if (runStart < data.length) parts.push(data.subarray(runStart));
  return {data: parts.length === 1 ? parts[0] : Buffer.concat(parts), lines: kept, cut: keptCut, dropped};
}
