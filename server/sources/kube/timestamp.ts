// The time the kubelet puts in front of every line when logs are requested with timestamps=true: RFC 3339
// with nanoseconds and a space, e.g. "2024-05-06T07:08:09.123456789Z ". The kubelet writes nine fixed
// digits, but the zone is the node's, and other runtimes trim zeros, so the value (not the text) is compared.

export interface LogTime {
  /** Seconds since the epoch, UTC. */
  sec: number;
  /** 0 to 999 999 999. */
  nanos: number;
}

const STAMP = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d\d):(\d\d))$/;

/** The longest prefix worth looking at: a full stamp with a numeric zone and its space. */
const MAX_STAMP = 36;

export function parseTime(text: string): LogTime | null {
  const m = STAMP.exec(text);
  if (m === null) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const offset = m[8] === 'Z' ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 3600 + Number(m[11]) * 60);
  const sec = Date.UTC(year, month - 1, day, hour, minute, second) / 1000 - offset;
  const nanos = m[7] === undefined ? 0 : Number(m[7].padEnd(9, '0'));
  return Number.isFinite(sec) ? {sec, nanos} : null;
}

/** The stamp at the start of data[start, end), or null when the line has none. */
export function lineTime(data: Buffer, start: number, end: number): LogTime | null {
  const limit = Math.min(end, start + MAX_STAMP);
  const space = data.indexOf(32, start);
  if (space < 0 || space >= limit) return null;
  return parseTime(data.toString('latin1', start, space));
}

export function compareTime(a: LogTime, b: LogTime): number {
  return a.sec - b.sec || a.nanos - b.nanos;
}

/** Whole seconds, the precision the API server keeps of sinceTime. */
export function formatSecond(sec: number): string {
  return new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Canonical UTC text with nine digits, so equal times always give equal strings. */
export function formatTime(t: LogTime): string {
  return `${formatSecond(t.sec).slice(0, -1)}.${String(t.nanos).padStart(9, '0')}Z`;
}
