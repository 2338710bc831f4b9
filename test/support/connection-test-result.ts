// One connection test's result as the bridge stores it: a passed S3 test asked for by a person, which each
// test changes only where it matters to it.
import type {ConnectionTestResult} from '../../common/connection-tests';

export function connectionTestResult(over: Partial<ConnectionTestResult> = {}): ConnectionTestResult {
  return {
    id: 't1',
    kind: 's3',
    label: 'File storage (S3)',
    target: {host: 's3.example.com', port: 443},
    trigger: 'person',
    requestedBy: {userId: 'u1', username: 'alice'},
    startedAt: '2026-12-07T12:03:00.000Z',
    finishedAt: '2026-12-07T12:03:02.000Z',
    outcome: 'passed',
    message: 'Mattermost answered OK.',
    httpStatus: 200,
    findingKeys: [],
    ...over,
  };
}
