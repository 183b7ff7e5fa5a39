import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unitReportCsv, type UnitReport } from './unit-report.ts';

const report: UnitReport = {
  unitId: '00000000-0000-4000-8000-000000000001',
  from: '2026-05-01T00:00:00.000Z',
  to: '2026-06-01T00:00:00.000Z',
  occurrences: [],
  byUnit: [
    { unit: 'Sở Nội vụ', invited: 6, present: 1, rate: 16.7 },
    { unit: 'UBND xã Tân Lập, huyện A', invited: 2, present: 2, rate: 100 },
  ],
  byPerson: [{ key: 'u1', name: 'Trần Thị Bích', unit: 'Sở Nội vụ', invited: 3, present: 2, missed: 1, rate: 66.7 }],
  truncated: false,
};

test('unit report CSV by person', () => {
  const csv = unitReportCsv(report);
  assert.ok(csv.startsWith('\uFEFF'));
  const lines = csv.slice(1).split('\r\n');
  assert.equal(lines[0], 'Họ và tên,Đơn vị,Số buổi được mời,Số buổi có mặt,Số buổi vắng,Tỷ lệ tham dự (%)');
  assert.equal(lines[1], 'Trần Thị Bích,Sở Nội vụ,3,2,1,"66,7"');
  assert.equal(lines[2], '');
});

test('unit report CSV by unit', () => {
  const lines = unitReportCsv(report, 'units').slice(1).split('\r\n');
  assert.equal(lines[0], 'Đơn vị,Số lượt được mời,Số lượt có mặt,Tỷ lệ tham dự (%)');
  assert.equal(lines[1], 'Sở Nội vụ,6,1,"16,7"');
  assert.equal(lines[2], '"UBND xã Tân Lập, huyện A",2,2,100');
});
