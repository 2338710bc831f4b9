// Test support: drives a KubernetesSource and a MeshWatcher that run, with the real Kubernetes client, in a
// worker thread (harness.ts), against a real API server (test/kubernetes/harness.ts) or a FakeApiServer. The worker loads the TypeScript sources through the
// build's own swc hook (build/ts-register.js), as the build scripts are run.
import {resolve} from 'node:path';
import {Worker} from 'node:worker_threads';
import type {MeshAllowances, MeshWatcherOptions} from '../../../mesh';
import type {KubernetesSourceOptions, KubernetesSourceStatus} from '../../kubernetes';
import type {SourceBatch, SourceNotice, SourceSink} from '../../types';

const ROOT = resolve(__dirname, '..', '..', '..', '..');
const BOOT = `require(${JSON.stringify(resolve(ROOT, 'build', 'ts-register.js'))}); require(${JSON.stringify(resolve(__dirname, 'harness.ts'))});`;

type Reply = {reply: number; value?: unknown; error?: string};
type Event = {event: 'batch'; seq: number; batch: Omit<SourceBatch, 'data'> & {data: Uint8Array}} | {event: 'notice'; notice: SourceNotice};

export class KubeWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, {resolve: (v: unknown) => void; reject: (e: Error) => void}>();
  private nextId = 0;
  private sink: SourceSink | null = null;
  private failure: Error | null = null;

  /** `ca`: the server's certificate chain (PEM), for an https server. */
  constructor(server: {url: string; token: string; ca?: string}) {
    const caData = server.ca === undefined ? undefined : Buffer.from(server.ca).toString('base64');
    this.worker = new Worker(BOOT, {eval: true, workerData: {server: server.url, token: server.token, caData}, stdout: false, stderr: false});
    this.worker.on('message', (m: Reply | Event) => this.onMessage(m));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`the worker exited with code ${code}`)));
  }

  startSource(options: KubernetesSourceOptions, sink: SourceSink, resume?: ReadonlyMap<string, string> | null): Promise<string> {
    this.sink = sink;
    return this.call('source.start', {options, resume: resume === undefined || resume === null ? null : [...resume]}) as Promise<string>;
  }

  stopSource(): Promise<void> {
    return this.call('source.stop') as Promise<void>;
  }

  status(): Promise<KubernetesSourceStatus> {
    return this.call('source.status') as Promise<KubernetesSourceStatus>;
  }

  startMesh(options: MeshWatcherOptions): Promise<void> {
    return this.call('mesh.start', {options}) as Promise<void>;
  }

  allowances(): Promise<MeshAllowances> {
    return this.call('mesh.allowances') as Promise<MeshAllowances>;
  }

  stopMesh(): Promise<void> {
    return this.call('mesh.stop') as Promise<void>;
  }

  /**
   * Stops the source and the mesh reader, then ends the worker. Throws, naming them, when connections are still
   * open after the stop: they would be cut by the termination, and one that errors meanwhile can bring down the
   * whole test process.
   */
  async terminate(): Promise<void> {
    const left = this.failure === null ? ((await this.call('close').catch(() => [])) as string[]) : [];
    this.worker.removeAllListeners('exit');
    if (left.length > 0) {
      // Not terminated under its open connections: it only stops keeping the test process alive, so that this
      // failure is reported before anything else can happen to them.
      this.worker.unref();
      throw new Error(`the stopped Kubernetes source and mesh reader left connections open: ${left.join(', ')}`);
    }
    await this.worker.terminate();
  }

  private call(op: string, payload: Record<string, unknown> = {}): Promise<unknown> {
    if (this.failure !== null) return Promise.reject(this.failure);
    this.nextId += 1;
    const id = this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, {resolve, reject});
      this.worker.postMessage({id, op, ...payload});
    });
  }

  private onMessage(m: Reply | Event): void {
    if ('reply' in m) {
      const p = this.pending.get(m.reply);
      this.pending.delete(m.reply);
      if (m.error === undefined) p?.resolve(m.value);
      else p?.reject(new Error(m.error));
      return;
    }
    if (m.event === 'notice') {
      this.sink?.notice?.(m.notice);
      return;
    }
    const {seq} = m;
    const u8 = m.batch.data;
    const batch: SourceBatch = {...m.batch, data: Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength)};
    const sink = this.sink;
    if (sink === null) return;
    sink.batch(batch).then(
      () => this.worker.postMessage({op: 'ack', seq}),
      (err: unknown) => this.worker.postMessage({op: 'ack', seq, error: err instanceof Error ? err.message : String(err)}),
    );
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
