// Reading Mattermost's configuration (GET /api/v4/config or config.json) as untrusted JSON: a missing or
// mistyped value reads as empty, never as a crash, and "switched on" means what Mattermost means by it.

export type Obj = Record<string, unknown>;

export function obj(v: unknown): Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}

export function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Settings Mattermost ships switched on count as on unless explicitly false. */
export function notFalse(v: unknown): boolean {
  return v !== false;
}

export function on(v: unknown): boolean {
  return v === true;
}
