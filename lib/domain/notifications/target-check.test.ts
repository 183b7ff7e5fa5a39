import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatCidr, parseCidr } from './ip-address.ts';
import { checkWebhookTarget, parseAllowListTarget, refusalReason, type AllowListEntry, type Resolver } from './target-check.ts';

const loopback: AllowListEntry = { kind: 'cidr', target: '127.0.0.1/32', port: null };

/** Returns a resolver over a fixed table that throws ENOTFOUND for any other name and records each lookup. */
function tableResolver(table: Record<string, string[]>, calls: string[] = []): Resolver {
  return async (hostname) => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

const noDns: Resolver = async (hostname) => {
  throw new Error(`the resolver must not be called for ${hostname}`);
};

describe('webhook target check', () => {
  test('allow-listed IP literal passes', async () => {
    const check = await checkWebhookTarget('http://127.0.0.1:8080/hooks?x=1', [loopback], noDns);
    assert.equal(check.ok, true);
    if (!check.ok) return;
    assert.equal(check.address, '127.0.0.1');
    assert.equal(check.port, 8080);
    assert.equal(check.url.pathname, '/hooks');
  });

  test('address outside the allow-list is rejected', async () => {
    const check = await checkWebhookTarget('http://127.0.0.2:8080/', [loopback], noDns);
    assert.equal(check.ok, false);
    if (check.ok) return;
    assert.equal(check.code, 'WEBHOOK_TARGET_NOT_ALLOWED');
    assert.match(check.reason, /127\.0\.0\.2/);
  });

  test('metadata and link-local addresses are refused even when allow-listed', async () => {
    const everything: AllowListEntry[] = [
      { kind: 'cidr', target: '0.0.0.0/0', port: null },
      { kind: 'cidr', target: '::/0', port: null },
    ];
    const cases = [
      'http://169.254.169.254/latest/meta-data/',
      'http://169.254.1.1/',
      'http://[fe80::1]/',
      'http://[fd00:ec2::254]/',
      'http://100.100.100.200/',
      'http://[::ffff:169.254.169.254]/',
      'http://[::ffff:a9fe:a9fe]/',
      'http://0.0.0.0:8080/',
      'http://[::]/',
      'http://2852039166/',
    ];
    for (const url of cases) {
      const check = await checkWebhookTarget(url, everything, noDns);
      assert.equal(check.ok, false, url);
      if (!check.ok) assert.equal(check.code, 'WEBHOOK_TARGET_FORBIDDEN', `${url}: ${check.reason}`);
    }
  });

  test('port of an entry is enforced', async () => {
    const onlyPort: AllowListEntry[] = [{ kind: 'cidr', target: '127.0.0.1/32', port: 9000 }];
    assert.equal((await checkWebhookTarget('http://127.0.0.1:9000/', onlyPort, noDns)).ok, true);
    const other = await checkWebhookTarget('http://127.0.0.1:9001/', onlyPort, noDns);
    assert.equal(other.ok, false);
    if (!other.ok) assert.equal(other.code, 'WEBHOOK_TARGET_NOT_ALLOWED');
    const defaultPort = await checkWebhookTarget('http://127.0.0.1/', onlyPort, noDns);
    assert.equal(defaultPort.ok, false);
  });

  test('every resolved address must be allowed', async () => {
    const calls: string[] = [];
    const resolver = tableResolver({ 'hooks.hop.test': ['127.0.0.1', '10.9.9.9'] }, calls);
    const check = await checkWebhookTarget('https://hooks.hop.test/in', [loopback], resolver);
    assert.equal(check.ok, false);
    if (!check.ok) assert.equal(check.code, 'WEBHOOK_TARGET_NOT_ALLOWED');
    assert.deepEqual(calls, ['hooks.hop.test']);
  });

  test('name resolving to metadata is refused', async () => {
    const resolver = tableResolver({ 'rebind.hop.test': ['127.0.0.1', '169.254.169.254'] });
    const entries: AllowListEntry[] = [{ kind: 'host', target: 'rebind.hop.test', port: null }];
    const check = await checkWebhookTarget('http://rebind.hop.test/', entries, resolver);
    assert.equal(check.ok, false);
    if (!check.ok) assert.equal(check.code, 'WEBHOOK_TARGET_FORBIDDEN');
  });

  test('host entry trusts the name and pins its first address', async () => {
    const resolver = tableResolver({ 'receiver.hop.test': ['127.0.0.1', '::1'] });
    const entries: AllowListEntry[] = [{ kind: 'host', target: 'receiver.hop.test', port: null }];
    const check = await checkWebhookTarget('http://Receiver.Hop.Test:7000/x', entries, resolver);
    assert.equal(check.ok, true);
    if (!check.ok) return;
    assert.equal(check.hostname, 'receiver.hop.test');
    assert.equal(check.address, '127.0.0.1');
    assert.equal(check.family, 4);
  });

  test('unresolvable name is reported', async () => {
    const check = await checkWebhookTarget('http://missing.hop.test/', [loopback], tableResolver({}));
    assert.equal(check.ok, false);
    if (!check.ok) assert.equal(check.code, 'WEBHOOK_TARGET_UNRESOLVED');
  });

  test('malformed URLs are invalid', async () => {
    for (const url of ['ftp://127.0.0.1/', 'http://user:pw@127.0.0.1/', 'not a url', 'http://127.0.0.1/#frag', 'file:///etc/passwd']) {
      const check = await checkWebhookTarget(url, [loopback], noDns);
      assert.equal(check.ok, false, url);
      if (!check.ok) assert.equal(check.code, 'WEBHOOK_URL_INVALID', url);
    }
  });
});

describe('allow-list entries', () => {
  test('CIDR blocks are normalised', () => {
    assert.deepEqual(parseAllowListTarget('10.20.30.40/16'), { kind: 'cidr', target: '10.20.0.0/16' });
    assert.deepEqual(parseAllowListTarget('127.0.0.1'), { kind: 'cidr', target: '127.0.0.1/32' });
    assert.deepEqual(parseAllowListTarget('[FD12:0:0::1]/64'), { kind: 'cidr', target: 'fd12::/64' });
    assert.deepEqual(parseAllowListTarget('::ffff:10.0.0.1/104'), { kind: 'cidr', target: '10.0.0.0/8' });
  });

  test('host names are lower-cased', () => {
    assert.deepEqual(parseAllowListTarget('Hooks.Example.GOV.vn.'), { kind: 'host', target: 'hooks.example.gov.vn' });
  });

  test('invalid entries are rejected', () => {
    for (const text of ['10.0.0.0/33', 'fd12::/129', 'a b', '-bad.example', '999.1.1.1', '1.2.3', 'http://x']) {
      assert.equal(parseAllowListTarget(text), null, text);
    }
  });

  test('refusal reasons name the block', () => {
    assert.match(refusalReason('169.254.169.254') ?? '', /metadata/);
    assert.match(refusalReason('fe80::abcd') ?? '', /link-local/);
    assert.equal(refusalReason('127.0.0.1'), null);
    assert.equal(refusalReason('10.1.2.3'), null);
  });

  test('CIDR arithmetic round-trips', () => {
    assert.equal(formatCidr(parseCidr('192.168.77.5/20')!), '192.168.64.0/20');
    assert.equal(formatCidr(parseCidr('2001:db8:abcd:12::1/48')!), '2001:db8:abcd::/48');
    assert.equal(parseCidr('::1/0')?.prefix, 0);
  });
});
