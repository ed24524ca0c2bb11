import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup-env.ts'],
    // Integration tests start emulators in-process; give them room on a 2-core CI machine.
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
