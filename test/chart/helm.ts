// The chart rendered by the pinned Helm client (build-helm.sh builds it from its Go module): the objects of
// `helm template`, parsed. Fails, saying what to run, without the binary.
import {execFileSync, spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {parseAllDocuments, stringify} from 'yaml';

export const CHART = resolve(__dirname, '..', '..', 'build', 'chart', 'egress-advisor');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = Record<string, any>;

export function helmBinary(): string {
  if (process.env.HELM_BIN) return process.env.HELM_BIN;
  const path =
    execFileSync('bash', [join(__dirname, 'build-helm.sh'), '--print'], {encoding: 'utf8'})
      .trim()
      .split('\n')
      .pop() ?? '';
  if (!existsSync(path)) throw new Error(`helm is not built yet (expected ${path}). Run: bash test/chart/build-helm.sh (or set HELM_BIN)`);
  return path;
}

/** `helm template <release> <chart> --namespace <namespace> --values <values>`, every document parsed. */
export function renderChart(release: string, namespace: string, values: Obj): Obj[] {
  const dir = mkdtempSync(join(tmpdir(), 'egress-helm-'));
  try {
    const file = join(dir, 'values.yaml');
    writeFileSync(file, stringify(values));
    const r = spawnSync(helmBinary(), ['template', release, CHART, '--namespace', namespace, '--values', file], {encoding: 'utf8'});
    if (r.status !== 0) throw new Error(`helm template failed (${r.status}):\n${r.stderr}`);
    return parseAllDocuments(r.stdout)
      .map((d) => d.toJS() as Obj | null)
      .filter((o): o is Obj => o !== null && o !== undefined);
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}
