/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.tsx?$': ['@swc/jest', {jsc: {target: 'es2022', parser: {syntax: 'typescript', tsx: true}}}],
  },
  testMatch: ['<rootDir>/server/**/*.test.ts', '<rootDir>/common/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/lib/', '/dist/'],
};
