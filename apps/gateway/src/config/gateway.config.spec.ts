import { ConfigError, loadConfig } from '@platform/shared-config';
import { GatewayConfig, isLoopbackHost } from './gateway.config';

/** The problems of a configuration that differs from a valid one (keys set, as every process needs) by `env`. */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(GatewayConfig, { CALLER_TRUSTED_KEYS: '{"keys":[]}', ...env });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('gateway configuration', () => {
  it('refuses to start without the caller keys, naming the variable', () => {
    expect(problemsOf({ CALLER_TRUSTED_KEYS: '' })).toEqual([
      expect.stringMatching(/^CALLER_TRUSTED_KEYS: CALLER_TRUSTED_KEYS must be set/),
    ]);
  });

  it('takes an A042 link key of 32 characters or more, or none, and names the variable otherwise', () => {
    expect(problemsOf({ GATEWAY_ERS_LINK_SECRET: 'k'.repeat(44) })).toEqual([]);
    expect(problemsOf({ GATEWAY_ERS_LINK_SECRET: '' })).toEqual([]);
    expect(problemsOf({ GATEWAY_ERS_LINK_SECRET: 'short' })).toEqual([
      expect.stringMatching(/^GATEWAY_ERS_LINK_SECRET: .*at least 32 characters/),
    ]);
  });

  it('knows loopback hosts', () => {
    expect(['localhost', '127.0.0.1', '127.8.9.10', '::1', '[::1]'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '10.0.0.1', 'auth.example.nhs.uk', '127.0.0.1.example.com', '::'].some(isLoopbackHost)).toBe(
      false,
    );
  });

  it('starts in sandbox mode on a local machine: loopback issuer, listen address and public URL', () => {
    expect(problemsOf({ SANDBOX: 'true' })).toEqual([]);
    expect(
      problemsOf({
        SANDBOX: 'true',
        OIDC_ISSUER: 'http://localhost:8081/realms/nhs',
        GATEWAY_PUBLIC_URL: 'http://127.0.0.1:8080',
      }),
    ).toEqual([]);
  });

  it.each([
    ['a production issuer', { OIDC_ISSUER: 'https://auth.platform.example.nhs.uk/realms/nhs' }, 'OIDC_ISSUER'],
    ['a remote JWKS', { OIDC_JWKS_URL: 'https://keycloak.example.nhs.uk/certs' }, 'OIDC_JWKS_URL'],
    ['a public URL', { GATEWAY_PUBLIC_URL: 'https://api.platform.example.nhs.uk' }, 'GATEWAY_PUBLIC_URL'],
    ['all interfaces', { GATEWAY_HOST: '0.0.0.0' }, 'GATEWAY_HOST'],
  ])('refuses sandbox mode with %s, naming the variable', (_name, env, variable) => {
    const problems = problemsOf({ SANDBOX: 'true', ...env });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^SANDBOX: .*${variable} must be a loopback address`));
    // The same settings without sandbox mode are production's, and fine.
    expect(problemsOf(env)).toEqual([]);
  });
});
