// The settings table of `serve --help`, kept apart from the service so help costs no service start-up.
import {SETTINGS} from '../bridge/config';

export function settingsHelp(): string {
  const rows = SETTINGS.map(([env, , dflt, what]) => `  ${env.padEnd(34)} ${what}\n  ${''.padEnd(34)} default: ${dflt}`);
  return `\nSettings (environment variables):\n${rows.join('\n')}\n`;
}
