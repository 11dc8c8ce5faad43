// Test order for the one jest run: jest's own order (failed first, then slowest first) for unit and
// integration tests, then the end-to-end files in path order. The end-to-end files share one running
// platform and apps/platform-e2e/src/platform.e2e-spec.ts stops pds in its last tests, so every other
// end-to-end file must run before it: name them so that they sort before "platform".
const Sequencer = require('@jest/test-sequencer').default;

const E2E = /\.e2e-spec\.ts$/;

class PlatformSequencer extends Sequencer {
  async sort(tests) {
    const ordered = await super.sort(tests);
    const e2e = ordered.filter((test) => E2E.test(test.path)).sort((a, b) => (a.path < b.path ? -1 : 1));
    return [...ordered.filter((test) => !E2E.test(test.path)), ...e2e];
  }
}

module.exports = PlatformSequencer;
