const os = require('node:os');

/**
 * Tests run against real PostgreSQL: see test/global-setup.ts. Each test file
 * has a database of its own, so files run side by side; at least two workers
 * even on a 2-core machine (Jest's default there is one), as a test spends
 * much of its time waiting for PostgreSQL: 128 s → 91 s for the suite on the
 * CI machine.
 */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 30000,
  maxWorkers: Math.max(2, os.availableParallelism() - 1),
};
