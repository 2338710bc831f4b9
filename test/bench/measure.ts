// Wall time and peak resident memory of a child process, without extra tools: the kernel's own high-water
// mark (VmHWM) is sampled while the process runs.
import {spawn} from 'node:child_process';
import {readFileSync} from 'node:fs';

export interface Measured {
  seconds: number;
  peakRssBytes: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

function vmHwm(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function measure(cmd: string, args: string[], opts: {keepStdout?: boolean} = {}): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, {stdio: ['ignore', 'pipe', 'pipe']});
    let peak = 0;
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const timer = setInterval(() => {
      if (child.pid !== undefined) peak = Math.max(peak, vmHwm(child.pid));
    }, 20);
    child.stdout.on('data', (d: Buffer) => {
      if (opts.keepStdout) stdout.push(d);
    });
    child.stderr.on('data', (d: Buffer) => stderr.push(d));
    child.on('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
        peakRssBytes: peak,
        code,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function mb(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}
