// The settings table of `serve --help`, kept apart from the service so help costs no service start-up.
import {SETTINGS} from '../bridge/config';
import {formatTable} from './help-layout';

const EXIT_CODES: [string, string][] = [
  ['0', 'stopped by SIGINT or SIGTERM'],
  ['2', 'a setting is wrong (the message names it, its value and an example)'],
  ['3', 'the store cannot be used as it is: damaged, or written by a newer release (the message says what to do)'],
  ['70', 'an unexpected error (logged), or the store could not be opened; started again by the orchestrator'],
];

/** The settings and exit codes, wrapped at `width` columns. */
export function settingsHelp(width: number): string {
  const rows = SETTINGS.map(([env, , dflt, what]): [string, string] => [env, `${what}\ndefault: ${dflt}`]);
  return `\nSettings (environment variables):\n${formatTable(rows, width)}\n\nExit codes:\n${formatTable(EXIT_CODES, width)}\n`;
}
