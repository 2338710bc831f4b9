/** @type {import('jest').Config} */
module.exports = {
  // Two cores give jest one worker, and one worker means every suite runs inside jest's own process: a socket
  // that a finished suite left behind and that errors later then aborts the whole run (node's
  // "FromJust Maybe value is Nothing" in socketErrorListener was seen once). In worker processes such a crash
  // ends one worker and fails the suite it was running, and the run goes on to report everything else.
  maxWorkers: 2,
  projects: [
    {
      displayName: 'node',
      testEnvironment: 'node',
      transform: {
        '^.+\\.tsx?$': ['@swc/jest', {jsc: {target: 'es2022', parser: {syntax: 'typescript', tsx: true}}}],
      },
      testMatch: ['<rootDir>/server/**/*.test.ts', '<rootDir>/common/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/lib/', '/dist/'],
      // lib/ is the compiled copy the spawned commands run; jest must not see it as a second package.
      modulePathIgnorePatterns: ['<rootDir>/lib/'],
    },
    {
      displayName: 'webapp',
      testEnvironment: 'jsdom',
      transform: {
        // The classic JSX runtime, as in the bundle (React.createElement, no react/jsx-runtime).
        '^.+\\.tsx?$': ['@swc/jest', {jsc: {target: 'es2022', parser: {syntax: 'typescript', tsx: true}, transform: {react: {runtime: 'classic'}}}}],
      },
      testMatch: ['<rootDir>/webapp/src/**/*.test.ts?(x)'],
      testPathIgnorePatterns: ['/node_modules/', '/lib/', '/dist/'],
      // lib/ is the compiled copy the spawned commands run; jest must not see it as a second package.
      modulePathIgnorePatterns: ['<rootDir>/lib/'],
      setupFilesAfterEnv: ['<rootDir>/webapp/src/test/setup.ts'],
    },
  ],
};
