// The words the UI uses for the API's enumerations, in one place.
import type {AttributionMethod, Confidence, SuggestionFormat, Verdict} from '../../../common/types';
import type {FindingStatus, HardeningStatus, IntegrationState, MeshReport, SourceState} from '../../../common/api';

export const VERDICT_LABEL: Record<Verdict, string> = {
  blocked: 'Blocked',
  passthrough: 'Blocked once hardened',
  'external-failed': 'Registered, unreachable',
  'external-ok': 'Allowed',
  internal: 'In the mesh',
  'not-access-log': 'Not an access log line',
};

export const VERDICT_HELP: Record<Verdict, string> = {
  blocked: 'The REGISTRY_ONLY policy dropped these connections (BlackHoleCluster).',
  passthrough: 'These connections left the mesh unregistered under ALLOW_ANY; hardening will block them.',
  'external-failed': 'A ServiceEntry exists, but the host could not be reached: a firewall or NetworkPolicy is in the way.',
  'external-ok': 'Registered and reached.',
  internal: 'Traffic inside the mesh.',
  'not-access-log': 'Not an access-log line.',
};

export const STATUS_LABEL: Record<FindingStatus, string> = {
  open: 'Open',
  ignored: 'Ignored',
  resolved: 'Resolved',
};

export const FORMAT_LABEL: Record<SuggestionFormat, string> = {
  bigbang: 'Big Bang values (routes.outbound)',
  'bigbang-legacy': 'Big Bang values, legacy (istio.hardened.customServiceEntries)',
  package: 'Mattermost package values (routes.outbound)',
  'package-legacy': 'Mattermost package values, legacy (istio.hardened.customServiceEntries)',
  serviceentry: 'ServiceEntry manifests (kubectl apply)',
};

export const METHOD_LABEL: Record<AttributionMethod, string> = {
  sni: 'the TLS server name (SNI) in the proxy log',
  authority: 'the HTTP Host header in the proxy log',
  cluster: 'the Envoy cluster name in the proxy log',
  'connection-test': "Mattermost's own connection test: blocked on the integration's port while the test connected",
  'app-log': "Mattermost's own log, same pod, same moment",
  dns: 'a host from the Mattermost configuration that resolves to this address',
  'well-known': 'a well-known address',
  port: 'the only integration Mattermost is configured to call on this port',
  none: 'nothing: no host could be named',
};

export const CONFIDENCE_LABEL: Record<Confidence, string> = {
  certain: 'Certain',
  likely: 'Likely',
  ambiguous: 'Ambiguous',
  unknown: 'Unknown',
};

export const HARDENING_LABEL: Record<HardeningStatus['state'], string> = {
  'registry-only': 'On (REGISTRY_ONLY)',
  'allow-any': 'Off (ALLOW_ANY)',
  unknown: 'Not known yet',
};

export const INTEGRATION_STATE_LABEL: Record<IntegrationState, string> = {
  blocked: 'Blocked',
  'will-be-blocked': 'Will be blocked',
  unknown: 'Not known',
  allowed: 'Allowed',
  'in-cluster': 'In the cluster',
};

export const INTEGRATION_STATE_HELP: Record<IntegrationState, string> = {
  blocked: 'Calls to it are being dropped now.',
  'will-be-blocked': 'No ServiceEntry covers it: its first call under REGISTRY_ONLY will be dropped.',
  unknown: 'What the mesh allows could not be read, and no values file says it.',
  allowed: 'A ServiceEntry or the values file lets it out.',
  'in-cluster': 'Inside the cluster: no ServiceEntry is needed.',
};

export const OUTBOUND_MODE_LABEL: Record<MeshReport['outboundMode'], string> = {
  REGISTRY_ONLY: 'REGISTRY_ONLY, unregistered hosts are blocked',
  ALLOW_ANY: 'ALLOW_ANY, unregistered hosts pass today',
  unknown: 'outbound mode not known',
};

/** The mesh's outboundTrafficPolicy in the words of the hardening card. */
export const MESH_HARDENING: Record<MeshReport['outboundMode'], HardeningStatus['state']> = {
  REGISTRY_ONLY: 'registry-only',
  ALLOW_ANY: 'allow-any',
  unknown: 'unknown',
};

export const SOURCE_STATE_LABEL: Record<SourceState, string> = {
  starting: 'Starting',
  following: 'Following',
  waiting: 'Waiting',
  error: 'Error',
  ended: 'Ended',
  stopped: 'Stopped',
};

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}
