// The egress-advisor command line.
import {Command, CommanderError, InvalidArgumentError, Option} from 'commander';
import {SUGGESTION_FORMATS} from '../../common/types';
import {version} from '../../package.json';
import {runClassify} from './classify';
import {formatItem, formatTable, helpWidth, wrapParagraph} from './help-layout';
import {InputError, UsageError} from './input';
import {runScan, type CliIo, type ScanCliOptions} from './scan';

export const EXIT = {ok: 0, actionNeeded: 1, usage: 2, input: 3, internal: 70} as const;

const EXIT_CODES: [string, string][] = [
  ['0', 'the scan completed (with --exit-code: and found nothing blocked or failing)'],
  ['1', 'with --exit-code: blocked or failing egress was found'],
  ['2', 'wrong usage (unknown option, bad value, a --values file that is not a values file)'],
  ['3', 'an input could not be read or understood (missing file, invalid JSON or YAML)'],
  ['70', 'an internal error (please report it with the command line you used)'],
];

// classify judges lines and never decides that something needs action, so it has no 1.
const CLASSIFY_EXIT_CODES: [string, string][] = [
  ['0', 'every line was written'],
  ['2', 'wrong usage (unknown option)'],
  ['3', 'the input could not be read'],
  ['70', 'an internal error (please report it with the command line you used)'],
];

// Commands are never wrapped (they must run as pasted): each line here fits 80 columns, longer ones go on
// with a backslash. Only the prose around them follows the terminal's width.
const SCAN_EXAMPLES = `
Examples:
  # What does REGISTRY_ONLY block for Mattermost right now?
  kubectl -n mattermost logs deploy/mattermost -c istio-proxy --timestamps \\
    | egress-advisor scan -

  # Name the hosts behind bare IPs and the features they break, and print only
  # what your values lack
  kubectl -n mattermost logs mattermost-0 -c istio-proxy > proxy.log
  kubectl -n mattermost logs mattermost-0 -c mattermost > mattermost.log
  curl -s -H "Authorization: Bearer $TOKEN" \\
    https://chat.example.com/api/v4/config > config.json
  egress-advisor scan proxy.log --mattermost-config config.json \\
    --app-log mattermost.log --values bigbang-values.yaml --format bigbang

  # Just the YAML, for a merge request
  egress-advisor scan proxy.log --values values.yaml --output yaml \\
    > add-to-values.yaml
`;

const CLASSIFY_FORMAT =
  'Each input line becomes one JSON object:\n' +
  '  {"line": N, "verdict": V, "host": H|null, "ip": IP|null, "port": P|null,\n' +
  '   "protocol": PR|null, "reason": "…"}\n';
const CLASSIFY_VERDICTS = 'with V one of blocked, passthrough, external-ok, external-failed, internal, not-access-log.';

const CLASSIFY_EXAMPLES = `
Examples:
  kubectl -n mattermost logs mattermost-0 -c istio-proxy \\
    | egress-advisor classify - | jq 'select(.verdict=="blocked")'
  egress-advisor classify proxy.log > verdicts.jsonl
`;

function exitCodesHelp(width: number, codes: [string, string][] = EXIT_CODES): string {
  return `\nExit codes:\n${formatTable(codes, width)}\n`;
}

// No default is given to commander for these, which would print "(default: [])" in the help.
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function buildProgram(io: CliIo, setCode: (code: number) => void): Command {
  const width = helpWidth(io.stdout);
  const program = new Command();
  // Set first: subcommands take the help layout from their parent when they are made.
  program.configureHelp({
    helpWidth: width,
    formatItem: (term: string, termWidth: number, description: string) => formatItem(term, termWidth, description, width),
  });
  program
    .name('egress-advisor')
    .description(
      'Finds the outbound connections of Mattermost that an Istio REGISTRY_ONLY egress policy blocks, names the host ' +
        'and the Mattermost feature each one breaks, and writes the ServiceEntry (in your Big Bang values format) that allows it.',
    )
    .version(version)
    .configureOutput({writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s)})
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('scan')
    .description('Read istio-proxy access logs and print blocked destinations, the features they break and the ServiceEntries to add.')
    .argument('[files...]', 'istio-proxy log files; "-" or nothing reads standard input')
    .addOption(
      new Option('-o, --output <kind>', 'text for people, json for tools, yaml for just the snippet').choices(['text', 'json', 'yaml']).default('text'),
    )
    .addOption(new Option('-f, --format <format>', 'suggestion format').choices([...SUGGESTION_FORMATS]).default('bigbang'))
    .option('--values <file>', 'your current values file (Big Bang umbrella, package, or ServiceEntry manifests): print only what it lacks')
    .option(
      '--mattermost-config <file>',
      'Mattermost configuration (GET /api/v4/config or config.json): names features and hosts behind IPs, and lists every configured integration: allowed by --values, blocked, or will be blocked',
    )
    .option('--webhooks <file>', 'outgoing webhooks (GET /api/v4/hooks/outgoing) whose callback URLs Mattermost calls')
    .option('--commands <file>', 'custom slash commands (GET /api/v4/commands?custom_only=true) whose URLs Mattermost calls')
    .option('--app-log <file>', "Mattermost's own log of the same pods: names the URL behind an IP-only blocked line (repeatable)", collect)
    .option('--resolve <host:ip>', 'use these addresses for a configured host instead of DNS, as curl does (repeatable)', collect)
    .option('--hosts <file>', 'a hosts file (address name…) to use instead of DNS for the configured hosts, e.g. from `getent hosts` in the pod')
    .option('--no-dns', 'do not resolve the configured hosts (only --resolve entries are used)')
    .option('--namespace <ns>', 'metadata.namespace for the serviceentry format')
    .option('--exhaustive', 'parse every line instead of only lines that can be egress findings (slower)', false)
    .option('--exit-code', 'exit with 1 when blocked or failing egress is found', false)
    .option('--threads <n>', 'threads for a large file (default: one per core, up to 4, for files over 64 MB)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError('a whole number from 1 to 64');
      return n;
    })
    .addHelpText('after', () => SCAN_EXAMPLES + exitCodesHelp(width))
    .action(async (files: string[], raw: Record<string, unknown>) => {
      const opts: ScanCliOptions = {
        output: raw.output as ScanCliOptions['output'],
        format: raw.format as ScanCliOptions['format'],
        values: raw.values as string | undefined,
        mattermostConfig: raw.mattermostConfig as string | undefined,
        webhooks: raw.webhooks as string | undefined,
        commands: raw.commands as string | undefined,
        appLog: (raw.appLog as string[] | undefined) ?? [],
        resolve: (raw.resolve as string[] | undefined) ?? [],
        hosts: raw.hosts as string | undefined,
        dns: raw.dns as boolean,
        exhaustive: raw.exhaustive as boolean,
        namespace: raw.namespace as string | undefined,
        exitCode: raw.exitCode as boolean,
        threads: raw.threads as number | undefined,
      };
      const {code} = await runScan(files, opts, io);
      setCode(code);
    });

  program
    .command('classify')
    .description('Write one JSON verdict per input line, for debugging and for other tools.')
    .argument('[file]', 'istio-proxy log file; "-" or nothing reads standard input', '-')
    .addHelpText(
      'after',
      () => `\n${CLASSIFY_FORMAT}${wrapParagraph(CLASSIFY_VERDICTS, width)}\n${CLASSIFY_EXAMPLES}${exitCodesHelp(width, CLASSIFY_EXIT_CODES)}`,
    )
    .action(async (file: string) => {
      setCode(await runClassify(file, io.stdout));
    });

  program
    .command('serve')
    .description(
      'Run the bridge: follow istio-proxy logs, keep findings in SQLite, alert an admin channel, answer /egress, and ' +
        "serve the System Console page's API. With nothing configured it reads the shipped sample cluster.",
    )
    .addHelpText('after', () => (require('./serve-help') as typeof import('./serve-help')).settingsHelp(width))
    .action(async () => {
      // Loaded only here: the service's dependencies (HTTP server, SQLite, Mattermost client) would
      // otherwise add their start-up cost to every scan.
      const {runServe} = await import('./serve');
      setCode(await runServe(io));
    });

  return program;
}

export async function main(argv: string[], io: CliIo = {stdout: process.stdout, stderr: process.stderr}): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof UsageError) {
      io.stderr.write(`egress-advisor: ${err.message}\n`);
      return EXIT.usage;
    }
    if (err instanceof InputError) {
      io.stderr.write(`egress-advisor: ${err.message}\n`);
      return EXIT.input;
    }
    throw err;
  }
  return code;
}
