import { InvalidArgumentError, Option } from 'commander';
import { matching, parseCommandLine, wholeNumber, type CliOutcome, type CliOutput } from '@platform/shared-config';
import { ENV_PREFIX_PATTERN, NAME_PATTERN, STREAM_PATTERN, type ServiceOptions } from './names';

export interface NewServiceCommand extends ServiceOptions {
  /** Only print what would be written and changed. */
  dryRun: boolean;
}

/** Parses `npm run new-service -- <name> --subject-prefix <p> --env-prefix <P> --port <n> [--stream <S>]`. */
export function parseNewServiceCommandLine(args: readonly string[], output?: CliOutput): CliOutcome<NewServiceCommand> {
  return parseCommandLine<NewServiceCommand>(
    {
      name: 'new-service',
      description:
        'Creates a national-application service in the shape of PDS: its app, contracts library, gateway routes, catalogue entry, chart and kustomize blocks, configuration and docs.',
      args,
      output,
    },
    (program, choose) => {
      program
        .argument('<name>', 'project name, kebab-case (e-referrals, gp2gp, nhsmail-relay)', (raw: string) => {
          if (!NAME_PATTERN.test(raw)) throw new InvalidArgumentError('It must be kebab-case: a-z, 0-9 and single -.');
          return raw;
        })
        .addOption(
          new Option('--subject-prefix <prefix>', 'first word of its NATS subjects and its contracts folder (ers)')
            .argParser(matching(NAME_PATTERN, 'kebab-case: a-z, 0-9 and single -'))
            .makeOptionMandatory(),
        )
        .addOption(
          new Option('--env-prefix <PREFIX>', 'prefix of its environment variables (ERS in ERS_HTTP_PORT)')
            .argParser(matching(ENV_PREFIX_PATTERN, 'upper case: A-Z, 0-9 and single _'))
            .makeOptionMandatory(),
        )
        .addOption(
          new Option('--port <port>', 'port of its /health and /metrics listener (9467)')
            .argParser(wholeNumber(1024, 65535))
            .makeOptionMandatory(),
        )
        .addOption(
          new Option('--stream <STREAM>', 'JetStream stream of its events (default: <PREFIX>_EVENTS)').argParser(
            matching(STREAM_PATTERN, 'upper case: A-Z, 0-9 and _'),
          ),
        )
        .option('--dry-run', 'print the files it would write and change, and write nothing', false)
        .action(
          (
            name: string,
            options: { subjectPrefix: string; envPrefix: string; port: number; stream?: string; dryRun: boolean },
          ) =>
            choose({
              name,
              subjectPrefix: options.subjectPrefix,
              envPrefix: options.envPrefix,
              port: options.port,
              stream: options.stream ?? `${options.envPrefix}_EVENTS`,
              dryRun: options.dryRun,
            }),
        );
    },
  );
}
