// Where things are, whether this runs from source (test/browser) or compiled (lib/test/browser).
import fs from 'node:fs';
import path from 'node:path';

function findRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'plugin.json')) && fs.existsSync(path.join(dir, 'webapp')) && fs.existsSync(path.join(dir, 'test', 'browser'))) return dir;
    dir = path.dirname(dir);
  }
  return path.resolve(__dirname, '..', '..');
}

export const PROJECT_ROOT = findRoot();

/** Screenshots of every state the suite checks (gitignored with the rest of test/artifacts/). */
export const ARTIFACTS_DIR = path.join(PROJECT_ROOT, 'test', 'artifacts', 'browser');

export const CHROMIUM = process.env.EGRESS_ADVISOR_CHROMIUM || '/usr/bin/chromium';
