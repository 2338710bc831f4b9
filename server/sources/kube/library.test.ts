// The client library is loaded only when a source or mesh reader connects: everything that merely imports
// them (the bridge and its tests) must load where the ES-module-only library cannot be required.
import {describeError, httpStatusOf} from './library';

describe('the Kubernetes client library', () => {
  it('is not loaded by importing or constructing the source and the mesh reader', () => {
    const sources = require('../index') as typeof import('../index');
    const mesh = require('../../mesh') as typeof import('../../mesh');
    const source = new sources.KubernetesSource({namespace: 'mattermost'});
    expect(source.id).toBe('kubernetes:mattermost?selector=app=mattermost');
    expect(source.status()).toMatchObject({kind: 'kubernetes', state: 'stopped', streams: []});
    expect(new mesh.MeshWatcher({namespace: 'mattermost'}).meshAllowances()).toMatchObject({ready: false, hosts: []});
  });

  it('refuses a selector or namespace the API server would refuse, when the source is built', () => {
    const {KubernetesSource} = require('../kubernetes') as typeof import('../kubernetes');
    expect(() => new KubernetesSource({namespace: 'Matter Most'})).toThrow('not a valid namespace name');
    expect(() => new KubernetesSource({namespace: 'mattermost', selector: 'app in (a,b)'})).toThrow();
  });
});

describe('API errors', () => {
  it('names the status and the Status message, not the whole response', () => {
    const apiException = Object.assign(new Error('HTTP-Code: 403\nMessage: Unknown API Status Code!\nBody: "…"\nHeaders: {"authorization":"x"}'), {
      code: 403,
      body: '{"kind":"Status","message":"pods is forbidden: User \\"x\\" cannot list resource \\"pods\\"","code":403}',
    });
    expect(httpStatusOf(apiException)).toBe(403);
    expect(describeError(apiException)).toBe('HTTP 403: pods is forbidden: User "x" cannot list resource "pods"');
    const noBody = Object.assign(new Error('HTTP-Code: 404\nMessage: Unknown API Status Code!\nBody: undefined'), {code: 404});
    expect(describeError(noBody)).toBe('HTTP 404: Unknown API Status Code!');
    const watch = Object.assign(new Error('Gone'), {statusCode: 410});
    expect(httpStatusOf(watch)).toBe(410);
    const net = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), {code: 'ECONNREFUSED'});
    expect(httpStatusOf(net)).toBeNull();
    expect(describeError(net)).toBe('connect ECONNREFUSED 127.0.0.1:6443');
  });
});
