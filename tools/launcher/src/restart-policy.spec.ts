import { RestartPolicy, restartSettingsFrom, type RestartSettings } from './restart-policy';

const settings: RestartSettings = {
  baseDelayMs: 1000,
  maxDelayMs: 8000,
  stableMs: 60_000,
  maxRestarts: 5,
  windowMs: 120_000,
};

describe('the launcher restart policy', () => {
  it('backs off exponentially up to the cap while the process keeps dying young', () => {
    const policy = new RestartPolicy({ ...settings, maxRestarts: 100 });
    const delays = [0, 1, 2, 3, 4, 5].map((i) => policy.onExit(i * 1000, 500));
    expect(delays.map((d) => (d.restart ? d.delayMs : undefined))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it('starts again from the first delay after the process has stayed up a while', () => {
    const policy = new RestartPolicy(settings);
    policy.onExit(0, 100);
    policy.onExit(1000, 100);
    expect(policy.onExit(200_000, 90_000)).toEqual({ restart: true, delayMs: 1000, attempt: 1 });
  });

  it('gives up when the process has died more than the limit within the window, not when the deaths are spread out', () => {
    const policy = new RestartPolicy(settings);
    for (let i = 0; i < 5; i += 1) expect(policy.onExit(i * 10_000, 100).restart).toBe(true);
    expect(policy.onExit(50_000, 100)).toEqual({ restart: false, restartsInWindow: 5 });

    const spread = new RestartPolicy(settings);
    for (let i = 0; i < 10; i += 1) expect(spread.onExit(i * 60_000, 100).restart).toBe(true);
  });

  it('reads its limits from LAUNCHER_* variables and ignores nonsense', () => {
    expect(restartSettingsFrom({ LAUNCHER_MAX_RESTARTS: '2', LAUNCHER_RESTART_DELAY_MS: 'soon' })).toMatchObject({
      maxRestarts: 2,
      baseDelayMs: 1000,
    });
  });
});
