// The settings table of `serve --help`, kept apart from the service so help costs no service start-up.
import {SETTINGS} from '../bridge/config';

export function settingsHelp(): string {
  const rows = SETTINGS.map(([env, , dflt, what]) => `  ${env.padEnd(34)} ${what}\n  ${''.padEnd(34)} default: ${dflt}`);
  return (
    `\nSettings (environment variables):\n${rows.join('\n')}\n` +
    '\nExit codes:\n' +
    '  0   stopped by SIGINT or SIGTERM\n' +
    '  2   a setting is wrong (the message names it, its value and an example)\n' +
    '  3   the store cannot be used as it is: damaged, or written by a newer release (the message says what to do)\n' +
    '  70  an unexpected error (logged), or the store could not be opened; started again by the orchestrator\n'
  );
}
