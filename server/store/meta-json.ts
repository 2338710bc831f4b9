// Values the bridge keeps as JSON in the meta table (the rehearsal, the hardening evidence, Mattermost's
// refusals). They were written by this program, but possibly by an older release or cut by a damaged disk,
// so reading one tells apart "none yet" from "there, but not JSON": the caller then starts without it and
// says so, instead of failing. A store that cannot be read at all is not this module's business: its error
// reaches the caller as every other read's does.

export type MetaJson = {state: 'absent'} | {state: 'unreadable'} | {state: 'read'; value: unknown};

export function readMetaJson(raw: string | null): MetaJson {
  if (raw === null) return {state: 'absent'};
  try {
    return {state: 'read', value: JSON.parse(raw) as unknown};
  } catch {
    return {state: 'unreadable'};
  }
}

/** The value as an array, or [] when there is none, it is not JSON or it is not an array. */
export function metaJsonArray(raw: string | null): unknown[] {
  const m = readMetaJson(raw);
  return m.state === 'read' && Array.isArray(m.value) ? m.value : [];
}
