import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { foldForSearch, normalizeName } from './text-search.ts';

describe('foldForSearch', () => {
  const newTonePlacement = 'Nguyễn Thị Hòa';
  const oldTonePlacement = 'Nguyễn Thị Hoà';

  test('tone placements differ before folding', () => {
    assert.notEqual(newTonePlacement.normalize('NFC'), oldTonePlacement.normalize('NFC'));
  });

  const equivalents: [string, string][] = [
    ['new tone placement', newTonePlacement],
    ['old tone placement', oldTonePlacement],
    ['NFD of new placement', newTonePlacement.normalize('NFD')],
    ['NFD of old placement', oldTonePlacement.normalize('NFD')],
    ['plain lower case', 'nguyen thi hoa'],
    ['upper case', 'NGUYỄN THỊ HÒA'],
    ['extra spaces', '  Nguyễn \u00a0 Thị\tHòa '],
  ];
  for (const [name, text] of equivalents) {
    test(`folds ${name}`, () => {
      assert.equal(foldForSearch(text), 'nguyen thi hoa');
    });
  }

  test('maps đ and Đ to d', () => {
    assert.equal(foldForSearch('Đặng Văn Đức'), 'dang van duc');
    assert.equal(foldForSearch('Sở Tài chính và Đầu tư'), 'so tai chinh va dau tu');
  });

  test('folds every Vietnamese vowel', () => {
    assert.equal(foldForSearch('ăâêôơư ÁÀẢÃẠ ẮẰẲẴẶ ẤẦẨẪẬ ÉÈẺẼẸ ẾỀỂỄỆ ÍÌỈĨỊ ÓÒỎÕỌ ỐỒỔỖỘ ỚỜỞỠỢ ÚÙỦŨỤ ỨỪỬỮỰ ÝỲỶỸỴ'),
      'aaeoou aaaaa aaaaa aaaaa eeeee eeeee iiiii ooooo ooooo ooooo uuuuu uuuuu yyyyy');
  });

  test('empty and blank text', () => {
    assert.equal(foldForSearch(''), '');
    assert.equal(foldForSearch(' \u00a0 '), '');
  });
});

describe('normalizeName', () => {
  test('turns NFD into NFC', () => {
    const decomposed = 'Nguyễn Thị Hòa'.normalize('NFD');
    assert.equal(normalizeName(decomposed), 'Nguyễn Thị Hòa'.normalize('NFC'));
  });

  test('trims and collapses spaces', () => {
    assert.equal(normalizeName('  Sở   Nội vụ \u00a0tỉnh  '), 'Sở Nội vụ tỉnh');
  });

  test('keeps case and tone marks', () => {
    assert.equal(normalizeName('Nguyễn Thị Hoà'), 'Nguyễn Thị Hoà');
    assert.notEqual(normalizeName('Nguyễn Thị Hoà'), normalizeName('Nguyễn Thị Hòa'));
  });
});
