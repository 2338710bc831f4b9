// Wall time and peak resident memory of a child process, without extra tools: the kernel's own high-water
// mark (VmHWM) is sampled while the process runs.
import {execFileSync, spawn} from 'node:child_process';
import {readFileSync} from 'node:fs';

export interface Measured {
  seconds: number;
  /**
   * User and system CPU time of the process and its threads. On a loaded machine wall time depends on the
   * neighbours; CPU time much less, so ratios of CPU times compare the work itself.
   */
  cpuSeconds: number;
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

let ticksPerSecond: number | undefined;

/**
 * CPU seconds of the children this process has waited for (cutime + cstime of /proc/self/stat): measured
 * around one child at a time, it is that child's CPU time, all its threads included.
 */
function childrenCpuSeconds(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).trim()) || 100;
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, cutime and cstime 16 and 17.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / ticksPerSecond;
}

export function measure(cmd: string, args: string[], opts: {keepStdout?: boolean} = {}): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const cpuBefore = childrenCpuSeconds();
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
        cpuSeconds: childrenCpuSeconds() - cpuBefore,
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
