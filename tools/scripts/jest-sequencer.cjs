// Test order for the one jest run: jest's own order (failed first, then slowest first) for unit and
// integration tests, then the end-to-end files in path order, and the fault suites (fault*.e2e-spec.ts) last.
// The end-to-end files share one running platform: apps/platform-e2e/src/platform.e2e-spec.ts stops pds in
// its last tests (the launcher restarts it), so every other end-to-end file must sort before "platform";
// the fault suites kill every process in turn (the fuzz suite, for one, checks that nothing restarted while it
// ran), so they run after all of them.
const Sequencer = require('@jest/test-sequencer').default;

const E2E = /\.e2e-spec\.ts$/;
const LAST = /[/\\]fault(-[a-z-]+)?\.e2e-spec\.ts$/;

class PlatformSequencer extends Sequencer {
  async sort(tests) {
    const ordered = await super.sort(tests);
    const e2e = ordered
      .filter((test) => E2E.test(test.path))
      .sort((a, b) => Number(LAST.test(a.path)) - Number(LAST.test(b.path)) || (a.path < b.path ? -1 : 1));
    return [...ordered.filter((test) => !E2E.test(test.path)), ...e2e];
  }
}

module.exports = PlatformSequencer;
