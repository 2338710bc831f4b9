export * from './types';
export {computeAllowances, type MeshInput} from './allowances';
export {allowedHostsFromMesh, reservedNamesFromMesh} from './allowed';
export {egressAllows, exportedTo, selectSidecar} from './visibility';
export {MeshWatcher, type MeshWatcherOptions} from './watcher';
