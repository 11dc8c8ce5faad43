import { IsBoolean, IsInt, IsOptional, IsString, IsUrl, Max, Min } from 'class-validator';
import { ConfigError, loadConfig } from './load-config';

class ExampleConfig {
  @IsUrl({ protocols: ['nats'], require_tld: false })
  NATS_URL = 'nats://127.0.0.1:4222';

  @IsInt()
  @Min(1)
  @Max(65535)
  PORT = 8080;

  @IsOptional()
  @IsString()
  DATABASE_URL?: string = undefined;

  @IsBoolean()
  SANDBOX = false;
}

describe('loadConfig', () => {
  it('uses defaults and converts numbers from the environment', () => {
    const config = loadConfig(ExampleConfig, { PORT: '9000' });
    expect(config.PORT).toBe(9000);
    expect(config.NATS_URL).toBe('nats://127.0.0.1:4222');
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('reads booleans strictly', () => {
    expect(loadConfig(ExampleConfig, { SANDBOX: 'true' }).SANDBOX).toBe(true);
    expect(loadConfig(ExampleConfig, { SANDBOX: 'false' }).SANDBOX).toBe(false);
    expect(() => loadConfig(ExampleConfig, { SANDBOX: 'maybe' })).toThrow(/SANDBOX/);
  });

  it('names every variable that is wrong', () => {
    try {
      loadConfig(ExampleConfig, { PORT: '70000', NATS_URL: 'not a url' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/^PORT:/m);
      expect(problems).toMatch(/^NATS_URL:/m);
    }
  });
});
