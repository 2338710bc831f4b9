export * from './types';
export {FileSource, type FileSourceOptions} from './file';
export {StdinSource, type StdinSourceOptions} from './stdin';
export {forEachLine} from './frame';
export {benchFileFollow} from './bench';

/** The store's resume points (listResumePoints) as a source's start() takes them. */
export function resumePointsOf(points: readonly {sourceId: string; position: string}[]): ReadonlyMap<string, string> {
  return new Map(points.map((p) => [p.sourceId, p.position]));
}
export {KubernetesSource, type KubernetesSourceOptions, type KubernetesSourceStatus, type PodSummary, type KubeConnection} from './kubernetes';
