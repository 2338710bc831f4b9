// Reading Pod objects as the API returns them (the recorded fixtures) and label selectors.
import {fixture, type Json} from './testing/fixtures';
import {formatSelector, impliedLabels, matchesSelector, parseSelector} from './labels';
import {namespaceIsAmbient, viewPod, type PodLike} from './pods';

describe('viewPod', () => {
  it('sees the sidecar and the state of every container of a recorded pod', () => {
    const v = viewPod(fixture<PodLike>('pod-mattermost-sidecar.json'), false);
    expect(v).toMatchObject({name: 'mattermost-6c8f9d7b54-2xq8k', phase: 'Running', ambient: false, terminating: false});
    expect(v?.containers.get('istio-proxy')).toEqual({started: true, state: 'running', restarts: 0});
    expect(v?.containers.get('mattermost')).toEqual({started: true, state: 'running', restarts: 0});
    expect(v?.containers.get('istio-init')).toEqual({started: true, state: 'terminated', restarts: 0});
  });

  it('knows a pod without a sidecar, and an ambient one by its annotation or its namespace', () => {
    expect(viewPod(fixture<PodLike>('pod-mattermost-no-sidecar.json'), false)?.containers.has('istio-proxy')).toBe(false);
    expect(viewPod(fixture<PodLike>('pod-mattermost-ambient.json'), false)?.ambient).toBe(true);
    expect(viewPod(fixture<PodLike>('pod-mattermost-no-sidecar.json'), true)?.ambient).toBe(true);
    const optedOut = fixture<Json>('pod-mattermost-no-sidecar.json');
    ((optedOut.metadata as Json).labels as Json)['istio.io/dataplane-mode'] = 'none';
    expect(viewPod(optedOut as PodLike, true)?.ambient).toBe(false);
    expect(namespaceIsAmbient((fixture<Json>('namespace-ambient.json').metadata as Json).labels as Record<string, string>)).toBe(true);
    expect(namespaceIsAmbient((fixture<Json>('namespace-mattermost.json').metadata as Json).labels as Record<string, string>)).toBe(false);
  });

  it('finds istio-proxy as a native sidecar (an init container that keeps running)', () => {
    const pod = fixture<Json>('pod-mattermost-sidecar.json');
    const spec = pod.spec as {containers: {name: string}[]; initContainers: {name: string; restartPolicy?: string}[]};
    spec.containers = spec.containers.filter((c) => c.name !== 'istio-proxy');
    spec.initContainers.push({name: 'istio-proxy', restartPolicy: 'Always'});
    const status = pod.status as {containerStatuses: Json[]; initContainerStatuses: Json[]};
    const proxy = status.containerStatuses.find((c) => c.name === 'istio-proxy') as Json;
    status.containerStatuses = status.containerStatuses.filter((c) => c !== proxy);
    status.initContainerStatuses.push(proxy);
    expect(viewPod(pod as PodLike, false)?.containers.get('istio-proxy')).toEqual({started: true, state: 'running', restarts: 0});
  });

  it('treats a waiting container as not started unless it ran before', () => {
    const pod = fixture<Json>('pod-mattermost-sidecar.json');
    const proxy = ((pod.status as Json).containerStatuses as Json[]).find((c) => c.name === 'istio-proxy') as Json;
    proxy.state = {waiting: {reason: 'ContainerCreating'}};
    expect(viewPod(pod as PodLike, false)?.containers.get('istio-proxy')).toEqual({started: false, state: 'waiting (ContainerCreating)', restarts: 0});
    proxy.state = {waiting: {reason: 'CrashLoopBackOff'}};
    proxy.restartCount = 3;
    proxy.lastState = {terminated: {exitCode: 1}};
    expect(viewPod(pod as PodLike, false)?.containers.get('istio-proxy')).toMatchObject({started: true, restarts: 3});
  });

  it('ignores what is not a pod (a bookmark object)', () => {
    expect(viewPod(fixture<PodLike>('bookmark-pod.json', {rv: '5'}), false)).toBeNull();
  });
});

describe('label selectors', () => {
  it('parses, prints and matches equality-based selectors', () => {
    const s = parseSelector(' app = mattermost, tier!=canary ,installation.mattermost.com/installation');
    expect(formatSelector(s)).toBe('app=mattermost,tier!=canary,installation.mattermost.com/installation');
    expect(matchesSelector(s, {app: 'mattermost', 'installation.mattermost.com/installation': 'mm'})).toBe(true);
    expect(matchesSelector(s, {app: 'mattermost', tier: 'canary', 'installation.mattermost.com/installation': 'mm'})).toBe(false);
    expect(matchesSelector(s, {app: 'mattermost'})).toBe(false);
    expect(impliedLabels(s)).toEqual({app: 'mattermost'});
    expect(matchesSelector(parseSelector('!canary'), {})).toBe(true);
  });

  it('refuses what the API server would refuse', () => {
    expect(() => parseSelector('')).toThrow('empty');
    expect(() => parseSelector('app in (a,b)')).toThrow();
    expect(() => parseSelector('app=has space')).toThrow();
    expect(() => parseSelector('-bad=x')).toThrow('not a valid label key');
  });
});
