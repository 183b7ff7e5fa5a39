import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkPasswordPolicy,
  currentScryptParameters,
  hashPassword,
  needsRehash,
  verifyDummyPassword,
  verifyPassword,
} from './passwords.ts';

describe('passwords', () => {
  test('hash has the scrypt format', async () => {
    const encoded = await hashPassword('một cụm từ dài đủ mười hai');
    const parts = encoded.split('$');
    assert.equal(parts.length, 6);
    assert.equal(parts[0], 'scrypt');
    assert.equal(parts[1], String(2 ** 15));
    assert.equal(parts[2], '8');
    assert.equal(parts[3], '1');
    assert.equal(Buffer.from(parts[4]!, 'base64url').length, 16);
    assert.equal(Buffer.from(parts[5]!, 'base64url').length, 32);
  });

  test('same password gets another salt', async () => {
    const first = await hashPassword('correct horse battery');
    const second = await hashPassword('correct horse battery');
    assert.notEqual(first, second);
  });

  test('verify accepts the right password', async () => {
    const encoded = await hashPassword('correct horse battery');
    assert.equal(await verifyPassword('correct horse battery', encoded), true);
  });

  test('verify rejects a wrong password', async () => {
    const encoded = await hashPassword('correct horse battery');
    assert.equal(await verifyPassword('correct horse batterY', encoded), false);
    assert.equal(await verifyPassword('', encoded), false);
  });

  test('verify matches NFC and NFD input', async () => {
    const encoded = await hashPassword('Mật khẩu Hòa Bình 2025'.normalize('NFD'));
    assert.equal(await verifyPassword('Mật khẩu Hòa Bình 2025'.normalize('NFC'), encoded), true);
  });

  test('verify throws on a damaged hash', async () => {
    await assert.rejects(verifyPassword('x', 'plain-text-password'), /scrypt\$N\$r\$p\$salt\$hash/);
    await assert.rejects(verifyPassword('x', 'scrypt$3$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA'));
    await assert.rejects(verifyPassword('x', `scrypt$${2 ** 24}$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA`));
  });

  test('older parameters need a rehash', async () => {
    const cheap = await hashPassword('correct horse battery', { N: 2 ** 10, r: 8, p: 1 });
    assert.equal(await verifyPassword('correct horse battery', cheap), true);
    assert.equal(needsRehash(cheap), true);

    const current = await hashPassword('correct horse battery');
    assert.equal(needsRehash(current), false);
    assert.equal(needsRehash(current, { ...currentScryptParameters, N: 2 ** 16 }), true);
    assert.equal(needsRehash('garbage'), true);
  });

  test('dummy verification completes', async () => {
    await verifyDummyPassword('anything at all');
  });

  test('policy rejects a short password', () => {
    const problems = checkPasswordPolicy('ngắn quá', 'hoa.nt');
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.rule, 'too-short');
    assert.match(problems[0]!.vi, /ít nhất 12 ký tự \(hiện có 8\)/);
  });

  test('policy counts characters in NFC', () => {
    // 12 letters, several with two tone marks; NFD would count more than 12 units.
    const password = 'ĐặngThịHồngỞ'.normalize('NFD');
    assert.deepEqual(checkPasswordPolicy(password, 'dang.hong'), []);
    assert.equal(checkPasswordPolicy('ĐặngThịHồng', 'dang.hong')[0]?.rule, 'too-short');
  });

  test('policy rejects the user name', () => {
    const problems = checkPasswordPolicy('Administrator.Tinh', 'administrator.tinh');
    assert.deepEqual(
      problems.map((problem) => problem.rule),
      ['equals-username'],
    );
    assert.equal(problems[0]!.vi, 'Mật khẩu không được trùng với tên đăng nhập.');
  });

  test('policy accepts a long passphrase', () => {
    assert.deepEqual(checkPasswordPolicy('trâu cày ruộng sáng sớm', 'nguyenvana'), []);
  });
});
