import {systemResolver} from './resolver';

test('systemResolver resolves localhost through the system resolver, without the network', async () => {
  const addresses = await systemResolver('localhost');
  expect(addresses.length).toBeGreaterThan(0);
  expect(addresses.some((a) => a === '127.0.0.1' || a === '::1')).toBe(true);
});
