import 'reflect-metadata';
import { ConfigError, loadConfig } from '@platform/shared-config';
import { IdentityProviderConfig } from './config';

function problems(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(IdentityProviderConfig, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.join('\n');
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('IdentityProviderConfig', () => {
  it('defaults to 127.0.0.1:8081, a 300 s token lifetime and the demo password', () => {
    const config = loadConfig(IdentityProviderConfig, {});
    expect(config).toMatchObject({
      IDP_HOST: '127.0.0.1',
      IDP_PORT: 8081,
      IDP_ACCESS_TOKEN_TTL: 300,
      IDP_DEMO_PASSWORD: 'demo',
      IDP_AUDIENCE: 'nhs-platform',
    });
    expect(config.IDP_ISSUER).toBeUndefined();
  });

  it('reads numbers and the issuer override from the environment', () => {
    const config = loadConfig(IdentityProviderConfig, {
      IDP_PORT: '9090',
      IDP_ACCESS_TOKEN_TTL: '60',
      IDP_ISSUER: 'http://identity-provider:8081/realms/nhs',
    });
    expect(config.IDP_PORT).toBe(9090);
    expect(config.IDP_ACCESS_TOKEN_TTL).toBe(60);
    expect(config.IDP_ISSUER).toBe('http://identity-provider:8081/realms/nhs');
  });

  it.each(['eighty', '70000', '-1', '80.5'])('names IDP_PORT when it is %s', (port) => {
    expect(problems({ IDP_PORT: port })).toMatch(/^IDP_PORT:/m);
  });

  it('names IDP_ACCESS_TOKEN_TTL and IDP_ISSUER when they are wrong', () => {
    const found = problems({ IDP_ACCESS_TOKEN_TTL: '0', IDP_ISSUER: 'not a url' });
    expect(found).toMatch(/^IDP_ACCESS_TOKEN_TTL:/m);
    expect(found).toMatch(/^IDP_ISSUER:/m);
  });
});
