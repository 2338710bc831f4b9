// `egress-advisor classify`: one JSON object per input line, the contract other tools build on.
import type {ClassifiedLine} from '../../common/types';
import {parseAccessLine} from '../engine/accesslog';
import {classifyLine} from '../engine/classify';
import {LineReader} from '../engine/lines';
import {readChunks} from './input';

const FLUSH_CHARS = 256 * 1024;

export function classifiedLine(text: string, lineNo: number, truncated: boolean): ClassifiedLine {
  if (truncated) {
    return {
      line: lineNo,
      verdict: 'not-access-log',
      host: null,
      ip: null,
      port: null,
      protocol: null,
      reason: 'line longer than the limit; cut and not parsed',
    };
  }
  const c = classifyLine(parseAccessLine(text));
  return {line: lineNo, verdict: c.verdict, host: c.host, ip: c.ip, port: c.port, protocol: c.protocol, reason: c.reason};
}

export async function runClassify(input: string, out: NodeJS.WritableStream): Promise<number> {
  let pending = '';
  const reader = new LineReader((text, n, truncated) => {
    pending += JSON.stringify(classifiedLine(text, n, truncated)) + '\n';
  });
  const flush = async (): Promise<void> => {
    if (pending === '') return;
    const chunk = pending;
    pending = '';
    // Respect back-pressure so a slow consumer (| less) does not make us buffer the whole log.
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
  };
  for await (const chunk of readChunks(input)) {
    reader.push(chunk);
    if (pending.length >= FLUSH_CHARS) await flush();
  }
  reader.end();
  await flush();
  return 0;
}
