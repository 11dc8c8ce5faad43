import path from 'node:path';
import { bufferedOutput } from '@platform/shared-config';
import { planService, Refusal } from './generate';
import { parseNewServiceCommandLine } from './options';

const ROOT = path.resolve(__dirname, '../../..');

describe('new-service command line', () => {
  it('reads the name, prefixes, port and stream (default <PREFIX>_EVENTS)', () => {
    expect(
      parseNewServiceCommandLine(['gp2gp', '--subject-prefix', 'gp2gp', '--env-prefix', 'GP2GP', '--port', '9468']),
    ).toEqual({
      run: {
        name: 'gp2gp',
        subjectPrefix: 'gp2gp',
        envPrefix: 'GP2GP',
        port: 9468,
        stream: 'GP2GP_EVENTS',
        dryRun: false,
      },
    });
  });

  it.each([
    [['Widgets', '--subject-prefix', 'w', '--env-prefix', 'W', '--port', '9468'], 'kebab-case'],
    [['widgets', '--subject-prefix', 'w.x', '--env-prefix', 'W', '--port', '9468'], 'kebab-case'],
    [['widgets', '--subject-prefix', 'w', '--env-prefix', 'w', '--port', '9468'], 'upper case'],
    [['widgets', '--subject-prefix', 'w', '--env-prefix', 'W', '--port', '80'], 'from 1024 to 65535'],
    [['widgets', '--subject-prefix', 'w', '--env-prefix', 'W'], "required option '--port <port>'"],
  ])('refuses %j with exit code 2 and one line saying why', (args, why) => {
    const output = bufferedOutput();
    expect(parseNewServiceCommandLine(args, output)).toEqual({ exitCode: 2 });
    expect(output.err).toContain(why);
  });
});

describe('planService against this checkout (nothing is written)', () => {
  it('refuses a service whose name, prefixes and port are taken, naming each clash', () => {
    const plan = (): unknown =>
      planService(ROOT, { name: 'pds', subjectPrefix: 'pds', envPrefix: 'PDS', port: 9464, stream: 'PDS_EVENTS' });
    expect(plan).toThrow(Refusal);
    expect(plan).toThrow(/the name pds[\s\S]*the health port 9464[\s\S]*the event stream PDS_EVENTS/);
  });

  it('plans the app, contracts, gateway routes, overlays and the edits of the shared files', () => {
    const plan = planService(
      ROOT,
      { name: 'widgets-desk', subjectPrefix: 'wid', envPrefix: 'WID', port: 9498, stream: 'WID_EVENTS' },
      1800000000000,
    );
    expect(Object.keys(plan.created)).toEqual(
      expect.arrayContaining([
        'apps/widgets-desk/src/widgets-desk.ts',
        'apps/widgets-desk/src/database/migrations/1800000000000-initial-schema.ts',
        'libs/contracts/wid/src/subjects.ts',
        'apps/gateway/src/widgets-desk/widgets-desk.controller.ts',
        'k8s/overlays/dev/hpa-widgets-desk.yaml',
      ]),
    );
    expect(Object.keys(plan.changed).sort()).toEqual(
      [
        '.env.example',
        'apps/gateway/README.md',
        'apps/gateway/src/gateway.module.ts',
        'deploy/charts/platform/values.yaml',
        'docs/messaging.md',
        'eslint.config.mjs',
        'k8s/overlays/dev/kustomization.yaml',
        'k8s/overlays/prod/kustomization.yaml',
        'libs/shared/catalogue/src/services.ts',
        'tsconfig.json',
      ].sort(),
    );
    expect(plan.created['libs/contracts/wid/src/subjects.ts']).toContain("healthCheck: 'wid.health.check.v1'");
    expect(plan.changed['apps/gateway/src/gateway.module.ts']).toContain(
      '{ provide: WIDGETS_DESK_CLIENT, useValue: new WidgetsDeskClient(rpc) },',
    );
  });
});
