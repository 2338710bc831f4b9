// What users pipe in is rarely the bare log line: `kubectl logs --prefix` puts "[pod/<pod>/<container>] "
// in front, `--timestamps` an RFC 3339 time, log shippers "<pod> <container> ". This module finds where the
// record itself starts and keeps what the prefix said about the pod and time.

export interface Prefix {
  pod: string | null;
  container: string | null;
  /** The kubectl --timestamps time, when present. */
  time: string | null;
  /** Offset of the record after the prefix. */
  rest: number;
}

const KUBECTL_PREFIX = /^\[pod\/([^/\]\s]{1,253})\/([^\]\s]{1,253})\] /;
const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)) /;
// "<pod> <container> " as written by shippers and older kubectl prefix forms, only when the container is
// one we know, so a free-form word is never mistaken for a pod name.
const SHIPPER_PREFIX = /^\[?([a-z0-9][a-z0-9.-]{0,252})\s+(istio-proxy|mattermost|istio-init)\]? /;

export function splitPrefix(line: string): Prefix {
  let pod: string | null = null;
  let container: string | null = null;
  let time: string | null = null;
  let rest = 0;
  // Both kubectl orders occur depending on version; loop so either order (and repeats) is consumed.
  for (let guard = 0; guard < 3; guard++) {
    const tail = rest === 0 ? line : line.slice(rest);
    let m = KUBECTL_PREFIX.exec(tail);
    if (m) {
      pod = m[1];
      container = m[2];
      rest += m[0].length;
      continue;
    }
    m = RFC3339.exec(tail);
    if (m) {
      time = m[1];
      rest += m[0].length;
      continue;
    }
    if (pod === null) {
      m = SHIPPER_PREFIX.exec(tail);
      if (m) {
        pod = m[1];
        container = m[2];
        rest += m[0].length;
        continue;
      }
    }
    break;
  }
  return {pod, container, time, rest};
}
