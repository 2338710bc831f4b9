// The worker side of KubeWorker (remote.ts): runs a KubernetesSource and a MeshWatcher with the real
// @kubernetes/client-node in a worker thread, where Node's own require loads the ES-module-only library
// (the test runner's module system cannot on Node 20). Batches travel to the test's sink and wait there for
// its answer, so backpressure and sink failures behave as in the bridge.
import {parentPort, workerData} from 'node:worker_threads';
import {MeshWatcher, type MeshWatcherOptions} from '../../../mesh';
import {KubernetesSource, type KubernetesSourceOptions} from '../../kubernetes';
import type {SourceSink} from '../../types';

interface Request {
  id: number;
  op: 'source.start' | 'source.stop' | 'source.status' | 'mesh.start' | 'mesh.allowances' | 'mesh.stop' | 'close';
  options?: Record<string, unknown>;
  resume?: [string, string][] | null;
}

interface Ack {
  op: 'ack';
  seq: number;
  error?: string;
}

const port = parentPort;
if (port === null) throw new Error('the harness runs in a worker thread');
const {server, token, caData} = workerData as {server: string; token: string; caData?: string};
const connection = {mode: 'direct' as const, server, token, caData};

let source: KubernetesSource | null = null;
let mesh: MeshWatcher | null = null;
let seq = 0;
const acks = new Map<number, {resolve: () => void; reject: (err: Error) => void}>();

const sink: SourceSink = {
  batch(b) {
    seq += 1;
    const n = seq;
    return new Promise<void>((resolve, reject) => {
      acks.set(n, {resolve, reject});
      port.postMessage({event: 'batch', seq: n, batch: {...b, data: new Uint8Array(b.data)}});
    });
  },
  notice(n) {
    port.postMessage({event: 'notice', notice: n});
  },
};

async function handle(m: Request): Promise<unknown> {
  switch (m.op) {
    case 'source.start':
      source = new KubernetesSource({...(m.options as KubernetesSourceOptions), connection});
      await source.start(sink, m.resume === null || m.resume === undefined ? null : new Map(m.resume));
      return source.id;
    case 'source.stop':
      await source?.stop();
      return null;
    case 'source.status':
      return source?.status() ?? null;
    case 'mesh.start':
      mesh = new MeshWatcher({...(m.options as MeshWatcherOptions), connection});
      await mesh.start();
      return null;
    case 'mesh.allowances':
      return mesh?.meshAllowances() ?? null;
    case 'mesh.stop':
      await mesh?.stop();
      return null;
    case 'close':
      await source?.stop();
      await mesh?.stop();
      source = null;
      mesh = null;
      return openSockets();
  }
}

/**
 * The network connections still open once everything stopped, after a moment for closes in flight. A worker
 * terminated with a connection open can crash the whole test process when that connection errors during the
 * termination (node's "FromJust Maybe value is Nothing" in socketErrorListener), so the test side refuses it.
 */
async function openSockets(): Promise<string[]> {
  const sockets = (): string[] => process.getActiveResourcesInfo().filter((r) => /TCP|TLS|Pipe/.test(r) && r !== 'TCPServerWrap');
  const until = Date.now() + 5_000;
  while (sockets().length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  return sockets();
}

port.on('message', (m: Request | Ack) => {
  if (m.op === 'ack') {
    const a = acks.get(m.seq);
    acks.delete(m.seq);
    if (m.error === undefined) a?.resolve();
    else a?.reject(new Error(m.error));
    return;
  }
  handle(m).then(
    (value) => port.postMessage({reply: m.id, value}),
    (err: unknown) => port.postMessage({reply: m.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err)}),
  );
});
