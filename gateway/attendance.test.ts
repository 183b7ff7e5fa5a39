/**
 * Attendance over HTTP on the embedded platform: marking by the secretary,
 * the own view of a participant, the report as CSV and XLSX (opened with
 * exceljs and compared with the CSV), QR check-in with rotation, expiry and
 * refusal of people not invited, the unit report, and the audit of downloads.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import ExcelJS from 'exceljs';
import { issueCheckInCode, CHECK_IN_STEP_MS } from '../lib/domain/attendance/check-in-code.ts';
import { attendanceCsv } from '../lib/domain/attendance/export.ts';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../test/support/platform.ts';
import { createLocalAccount } from './auth/accounts.ts';

const password = 'mật khẩu đủ dài 2026';

describe('attendance over HTTP', () => {
  let hop: TestPlatform;
  let unitId: string;
  let roomId: string;
  let meetingId: string;
  let occurrenceId: string;
  let participants: { id: string; name: string }[];
  const sessions: Record<string, { userId: string; headers: Record<string, string> }> = {};
  let ip = 10;

  async function person(username: string, displayName: string, systemRole: 'admin' | 'organiser' | 'member', position: string | null) {
    const { userId } = await createLocalAccount(hop.platform.database.db, { username, displayName, password, systemRole });
    await hop.platform.database.db.insertInto('membership').values({ user_id: userId, unit_id: unitId, position }).execute();
    const response = await hop.requestAs(null, 'POST', '/api/v1/auth/login', { username, password }, { 'x-forwarded-for': `127.0.2.${ip++}` });
    assert.equal(response.status, 200);
    const cookie = /^(hop_session=[^;]+)/.exec(response.headers.get('set-cookie') ?? '')![1]!;
    sessions[username] = { userId, headers: { cookie, 'x-csrf-token': response.body.csrfToken as string } };
    return sessions[username]!;
  }
  const as = (username: string, method: string, path: string, body?: unknown) => hop.requestAs(null, method, path, body, sessions[username]!.headers);

  before(async () => {
    hop = await startTestPlatform();
    unitId = (await hop.request('POST', '/api/v1/units', { kind: 'department', name: 'Sở Nội vụ' })).body.id;
    const chair = await person('chutri', 'Phan Văn Hùng', 'member', 'Giám đốc Sở');
    const secretary = await person('thuky', 'Lê Thị Mai', 'member', 'Chánh Văn phòng');
    const member = await person('thamdu', 'Trần Quốc Bảo', 'member', 'Trưởng phòng');
    const absentee = await person('vangmat', 'Hoàng Thị Thu', 'member', 'Phó Trưởng phòng');
    await person('ngoai', 'Đặng Văn Khoa', 'member', null);
    await person('tochuc', 'Võ Thị Lan', 'organiser', null);

    const room = await hop.request('POST', '/api/v1/meeting-rooms', { name: 'Phòng họp số 1', unitId, capacity: 30 });
    assert.equal(room.status, 201, JSON.stringify(room.body));
    roomId = room.body.id;

    const created = await hop.request(
      'POST',
      '/api/v1/meetings',
      meetingRequest({
        unitId,
        mode: 'hybrid',
        meetingRoomId: roomId,
        startsAt: new Date(Date.now() - 10 * 60_000).toISOString(),
        endsAt: new Date(Date.now() + 50 * 60_000).toISOString(),
        participants: [
          { name: 'Phan Văn Hùng', userId: chair.userId, role: 'chair' },
          { name: 'Lê Thị Mai', userId: secretary.userId, role: 'secretary' },
          { name: 'Trần Quốc Bảo', userId: member.userId, role: 'participant' },
          { name: 'Hoàng Thị Thu', userId: absentee.userId, role: 'participant' },
          { name: 'Nguyễn Hữu Phước', role: 'participant' },
        ],
      }),
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    meetingId = created.body.id;
    participants = created.body.participants;
    occurrenceId = (await hop.platform.database.db.selectFrom('meeting_occurrence').select('id').where('meeting_id', '=', meetingId).executeTakeFirstOrThrow()).id;
  });

  after(async () => {
    await hop.stop();
  });

  test('secretary marks absence and delegation', async () => {
    const absent = participants[3]!.id;
    const missingReason = await as('thuky', 'PUT', `/api/v1/meetings/${meetingId}/attendance/${absent}`, { status: 'absent' });
    assert.equal(missingReason.status, 400);
    assert.equal(missingReason.body.error.code, 'VALIDATION_FAILED');

    const marked = await as('thuky', 'PUT', `/api/v1/meetings/${meetingId}/attendance/${absent}`, { status: 'absent', absenceReason: 'Đi công tác tại huyện A Lưới' });
    assert.equal(marked.status, 200, JSON.stringify(marked.body));
    assert.equal(marked.body.status, 'absent');
    assert.equal(marked.body.absenceReason, 'Đi công tác tại huyện A Lưới');

    const delegated = await as('thuky', 'PUT', `/api/v1/meetings/${meetingId}/attendance/${participants[4]!.id}`, {
      status: 'delegated',
      delegateName: 'Ngô Thị Hạnh',
      delegatePosition: 'Phó Giám đốc',
    });
    assert.equal(delegated.status, 200);
    assert.deepEqual(delegated.body.delegate, { name: 'Ngô Thị Hạnh', position: 'Phó Giám đốc' });

    const byMember = await as('thamdu', 'PUT', `/api/v1/meetings/${meetingId}/attendance/${absent}`, { status: 'present_in_person' });
    assert.equal(byMember.status, 403);

    const audit = await hop.platform.database.db.selectFrom('audit_record').selectAll().where('action', '=', 'attendance.marked').execute();
    assert.equal(audit.length, 2);
    const events = await hop.platform.database.db.selectFrom('outbox').select('headers').where('topic', '=', 'hop.attendance.v1').execute();
    assert.equal(events.filter((row) => row.headers['ce-type'] === 'vn.hop.attendance.marked.v1').length, 2);
  });

  test('text fields reject NUL with 400', async () => {
    const target = participants[4]!.id;
    const cases: { field: string; body: Record<string, string> }[] = [
      { field: 'absenceReason', body: { status: 'absent', absenceReason: 'Ốm\u0000' } },
      { field: 'delegateName', body: { status: 'delegated', delegateName: 'Ngô Thị\u0000 Hạnh' } },
      { field: 'delegatePosition', body: { status: 'delegated', delegateName: 'Ngô Thị Hạnh', delegatePosition: 'Phó\u0000' } },
      { field: 'note', body: { status: 'present_in_person', note: 'ghi chú\u0000' } },
    ];
    for (const { field, body } of cases) {
      const response = await as('thuky', 'PUT', `/api/v1/meetings/${meetingId}/attendance/${target}`, body);
      assert.equal(response.status, 400, `${field}: ${JSON.stringify(response.body)}`);
      assert.equal(response.body.error.code, 'VALIDATION_FAILED', field);
      assert.ok(response.body.error.details.some((detail: { path: string }) => detail.path === field), `${field} is named in the details`);
    }
  });

  test('other attendance routes reject NUL without 500', async () => {
    const nul = encodeURIComponent('\u0000');
    const checks: { name: string; response: Promise<{ status: number; body: any }>; status: number }[] = [
      { name: 'check-in code', response: as('thamdu', 'POST', '/api/v1/attendance/check-in', { code: `abc\u0000def` }), status: 400 },
      { name: 'hand invitation key', response: hop.requestAs(null, 'POST', `/api/v1/meetings/${meetingId}/hand`, { inviteKey: `${'k'.repeat(20)}\u0000`, raised: true }), status: 403 },
      { name: 'board occurrence', response: as('thuky', 'GET', `/api/v1/meetings/${meetingId}/attendance?occurrenceId=${nul}`), status: 404 },
      { name: 'report occurrence', response: as('thuky', 'GET', `/api/v1/meetings/${meetingId}/attendance/report?occurrenceId=${nul}`), status: 404 },
      { name: 'mark participant id', response: as('thuky', 'PUT', `/api/v1/meetings/${meetingId}/attendance/${nul}`, { status: 'late' }), status: 404 },
      { name: 'lower hand participant id', response: as('thuky', 'POST', `/api/v1/meetings/${meetingId}/hands/${nul}/lower`, {}), status: 404 },
      { name: 'unit report unit', response: as('tochuc', 'GET', `/api/v1/attendance/report?unitId=${nul}&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z`), status: 400 },
    ];
    for (const check of checks) {
      const response = await check.response;
      assert.equal(response.status, check.status, `${check.name}: ${JSON.stringify(response.body)}`);
    }
  });

  test('delegate name and position collapse spaces', async () => {
    const target = participants[4]!.id;
    const marked = await as('thuky', 'PUT', `/api/v1/meetings/${meetingId}/attendance/${target}`, {
      status: 'delegated',
      delegateName: '  Ngô   Thị\u00a0Hạnh ',
      delegatePosition: 'Phó   Chánh Văn phòng',
      absenceReason: '   ',
    });
    assert.equal(marked.status, 200, JSON.stringify(marked.body));
    assert.deepEqual(marked.body.delegate, { name: 'Ngô Thị Hạnh', position: 'Phó Chánh Văn phòng' });

    const restored = await as('thuky', 'PUT', `/api/v1/meetings/${meetingId}/attendance/${target}`, { status: 'delegated', delegateName: 'Ngô Thị Hạnh', delegatePosition: 'Phó Giám đốc' });
    assert.equal(restored.status, 200, JSON.stringify(restored.body));
  });

  test('marking rejected in cancelled and draft meetings', async () => {
    const participantsOf = [
      { name: 'Lê Thị Mai', userId: sessions.thuky!.userId, role: 'secretary' },
      { name: 'Trần Quốc Bảo', userId: sessions.thamdu!.userId, role: 'participant' },
    ];
    const draft = await hop.request('POST', '/api/v1/meetings', meetingRequest({ unitId, status: 'draft', participants: participantsOf }));
    assert.equal(draft.status, 201, JSON.stringify(draft.body));
    const inDraft = await as('thuky', 'PUT', `/api/v1/meetings/${draft.body.id}/attendance/${draft.body.participants[1].id}`, { status: 'present_in_person' });
    assert.equal(inDraft.status, 409, JSON.stringify(inDraft.body));
    assert.equal(inDraft.body.error.code, 'MEETING_STATUS_CONFLICT');
    assert.equal(inDraft.body.error.details.action, 'attendance.mark');
    assert.match(inDraft.body.error.message, /trạng thái hiện tại/);

    const cancelled = await hop.request('POST', '/api/v1/meetings', meetingRequest({ unitId, participants: participantsOf }));
    assert.equal(cancelled.status, 201, JSON.stringify(cancelled.body));
    assert.equal((await hop.request('POST', `/api/v1/meetings/${cancelled.body.id}/cancel`, {})).status, 200);
    const inCancelled = await as('thuky', 'PUT', `/api/v1/meetings/${cancelled.body.id}/attendance/${cancelled.body.participants[1].id}`, { status: 'present_in_person' });
    assert.equal(inCancelled.status, 409, JSON.stringify(inCancelled.body));
    assert.equal(inCancelled.body.error.code, 'MEETING_CANCELLED');
    assert.equal(inCancelled.body.error.message, 'Cuộc họp đã hủy.');

    const marks = await hop.platform.database.db.selectFrom('attendance_mark').select('meeting_id').where('meeting_id', 'in', [draft.body.id, cancelled.body.id]).execute();
    assert.equal(marks.length, 0, 'nothing was stored');
  });

  test('participant sees only own row', async () => {
    const own = await as('thamdu', 'GET', `/api/v1/meetings/${meetingId}/attendance`);
    assert.equal(own.status, 200);
    assert.equal(own.body.rows.length, 1);
    assert.equal(own.body.rows[0].name, 'Trần Quốc Bảo');
    const all = await as('chutri', 'GET', `/api/v1/meetings/${meetingId}/attendance`);
    assert.equal(all.body.rows.length, 5);
    const outsider = await as('ngoai', 'GET', `/api/v1/meetings/${meetingId}/attendance`);
    assert.equal(outsider.status, 404);
  });

  test('QR check-in accepts current code once', async () => {
    const kiosk = await as('thuky', 'GET', `/api/v1/meeting-rooms/${roomId}/check-in-code`);
    assert.equal(kiosk.status, 200, JSON.stringify(kiosk.body));
    assert.equal(kiosk.body.meeting.id, meetingId);
    assert.match(kiosk.body.qrSvg, /^<svg/);
    assert.ok(kiosk.body.url.endsWith(`/checkin.html#${kiosk.body.code}`));

    const first = await as('thamdu', 'POST', '/api/v1/attendance/check-in', { code: kiosk.body.code });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.alreadyCheckedIn, false);
    const again = await as('thamdu', 'POST', '/api/v1/attendance/check-in', { code: kiosk.body.code });
    assert.equal(again.body.alreadyCheckedIn, true);
    assert.equal(again.body.checkedInAt, first.body.checkedInAt);

    const row = (await as('thuky', 'GET', `/api/v1/meetings/${meetingId}/attendance`)).body.rows.find((r: any) => r.name === 'Trần Quốc Bảo');
    assert.equal(row.status, 'present_in_person');
    assert.deepEqual(row.checkInMethods, ['qr']);
  });

  test('QR check-in refuses old and altered codes', async () => {
    const secret = hop.platform.joinTokenSecret;
    const old = issueCheckInCode(roomId, occurrenceId, new Date(Date.now() - 2 * CHECK_IN_STEP_MS - 1000), secret);
    const expired = await as('chutri', 'POST', '/api/v1/attendance/check-in', { code: old.code });
    assert.equal(expired.status, 400);
    assert.equal(expired.body.error.code, 'CHECK_IN_CODE_EXPIRED');

    const current = issueCheckInCode(roomId, occurrenceId, new Date(), secret);
    const otherRoom = current.code.replace(roomId, '00000000-0000-4000-8000-000000000000');
    const altered = await as('chutri', 'POST', '/api/v1/attendance/check-in', { code: otherRoom });
    assert.equal(altered.body.error.code, 'CHECK_IN_CODE_INVALID');
    const future = issueCheckInCode(roomId, occurrenceId, new Date(Date.now() + 5 * CHECK_IN_STEP_MS), secret);
    assert.equal((await as('chutri', 'POST', '/api/v1/attendance/check-in', { code: future.code })).body.error.code, 'CHECK_IN_CODE_EXPIRED');
    const foreign = issueCheckInCode(roomId, occurrenceId, new Date(), 'another installation secret of enough length');
    assert.equal((await as('chutri', 'POST', '/api/v1/attendance/check-in', { code: foreign.code })).body.error.code, 'CHECK_IN_CODE_INVALID');
  });

  test('uninvited check-in is refused and shown', async () => {
    const current = issueCheckInCode(roomId, occurrenceId, new Date(), hop.platform.joinTokenSecret);
    const refused = await as('ngoai', 'POST', '/api/v1/attendance/check-in', { code: current.code });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'CHECK_IN_NOT_INVITED');
    assert.match(refused.body.error.message, /không có trong thành phần tham dự/);
    const board = await as('thuky', 'GET', `/api/v1/meetings/${meetingId}/attendance`);
    assert.ok(board.body.refusedCheckIns.some((a: any) => a.userName === 'Đặng Văn Khoa' && a.code === 'CHECK_IN_NOT_INVITED'));
  });

  test('kiosk counts match the board', async () => {
    const kiosk = await as('thuky', 'GET', `/api/v1/meeting-rooms/${roomId}/check-in-code`);
    assert.equal(kiosk.status, 200, JSON.stringify(kiosk.body));
    const board = await as('thuky', 'GET', `/api/v1/meetings/${meetingId}/attendance`);
    // Present: Bảo by QR and Phước by delegation; only Bảo checked in by QR.
    assert.equal(board.body.summary.present, 2);
    assert.equal(kiosk.body.present, board.body.summary.present);
    assert.equal(kiosk.body.inRoom, board.body.summary.inRoom);
    assert.equal(kiosk.body.online, board.body.summary.online);
    assert.equal(kiosk.body.invited, 5);
    assert.equal(kiosk.body.checkedIn, 1);
  });

  test('kiosk key reads only its room', async () => {
    await person('quantri', 'Nguyễn Thị Hòa', 'admin', null);
    const issued = await as('quantri', 'POST', '/api/v1/admin/api-keys', { name: 'Kiosk – Phòng họp số 1', scopes: [`kiosk:${roomId}`] });
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    const token = issued.body.token as string;

    const kiosk = await hop.requestAs(token, 'GET', `/api/v1/meeting-rooms/${roomId}/check-in-code`);
    assert.equal(kiosk.status, 200, JSON.stringify(kiosk.body));
    assert.equal(kiosk.body.meetingRoom.name, 'Phòng họp số 1');
    assert.match(kiosk.body.qrSvg, /^<svg/);

    const otherRoom = await hop.request('POST', '/api/v1/meeting-rooms', { name: 'Phòng họp số 2', unitId });
    assert.equal(otherRoom.status, 201);
    const elsewhere = await hop.requestAs(token, 'GET', `/api/v1/meeting-rooms/${otherRoom.body.id}/check-in-code`);
    assert.equal(elsewhere.status, 403);
    assert.equal(elsewhere.body.error.code, 'PERMISSION_DENIED');
    const attendance = await hop.requestAs(token, 'GET', `/api/v1/meetings/${meetingId}/attendance`);
    assert.ok([403, 404].includes(attendance.status), `a kiosk key reads no attendance, got HTTP ${attendance.status}`);
    assert.equal((await hop.requestAs(token, 'GET', '/api/v1/meeting-rooms')).status, 403);
    assert.equal((await hop.requestAs(token, 'GET', `/api/v1/meetings/${meetingId}`)).status, 404);
  });

  test('empty room names the room', async () => {
    const room = await hop.request('POST', '/api/v1/meeting-rooms', { name: 'Hội trường tầng 3', unitId, location: 'Tầng 3, 22 Tôn Đức Thắng' });
    assert.equal(room.status, 201);
    const empty = await as('tochuc', 'GET', `/api/v1/meeting-rooms/${room.body.id}/check-in-code`);
    assert.equal(empty.status, 409);
    assert.equal(empty.body.error.code, 'NO_MEETING_IN_ROOM');
    assert.deepEqual(empty.body.error.details.meetingRoom, { id: room.body.id, name: 'Hội trường tầng 3', location: 'Tầng 3, 22 Tôn Đức Thắng' });

    const issued = await as('quantri', 'POST', '/api/v1/admin/api-keys', { name: 'Kiosk – Hội trường tầng 3', scopes: [`kiosk:${room.body.id}`] });
    const byKey = await hop.requestAs(issued.body.token, 'GET', `/api/v1/meeting-rooms/${room.body.id}/check-in-code`);
    assert.equal(byKey.status, 409);
    assert.equal(byKey.body.error.details.meetingRoom.name, 'Hội trường tầng 3');
  });

  test('other unit gets no meeting id', async () => {
    const db = hop.platform.database.db;
    const otherUnit = (await hop.request('POST', '/api/v1/units', { kind: 'commune', name: 'UBND xã Tân Lập' })).body.id as string;
    const { userId } = await createLocalAccount(db, { username: 'hai.nv', displayName: 'Nguyễn Văn Hải', password, systemRole: 'organiser' });
    await db.insertInto('membership').values({ user_id: userId, unit_id: otherUnit, position: null }).execute();
    const login = await hop.requestAs(null, 'POST', '/api/v1/auth/login', { username: 'hai.nv', password }, { 'x-forwarded-for': `127.0.2.${ip++}` });
    assert.equal(login.status, 200);
    const cookie = /^(hop_session=[^;]+)/.exec(login.headers.get('set-cookie') ?? '')![1]!;

    const response = await hop.requestAs(null, 'GET', `/api/v1/meeting-rooms/${roomId}/check-in-code`, undefined, { cookie });
    assert.equal(response.status, 403);
    assert.equal(response.body.error.code, 'PERMISSION_DENIED');
    const text = JSON.stringify(response.body);
    assert.ok(!text.includes(meetingId), `the answer names the meeting: ${text}`);
    assert.ok(!text.includes('occurrence'), `the answer names the occurrence: ${text}`);
  });

  test('marks name every method and the marker', async () => {
    const bao = participants[2]!.id;
    const chairMark = await as('chutri', 'PUT', `/api/v1/meetings/${meetingId}/attendance/${bao}`, { status: 'late' });
    assert.equal(chairMark.status, 200, JSON.stringify(chairMark.body));
    assert.deepEqual(chairMark.body.checkInMethods, ['qr', 'manual'], 'the QR check-in and the mark are both listed');
    assert.equal(chairMark.body.markedByRole, 'chair');

    // The report is built from the board's JSON here, because every download is audited and a later test counts them.
    const afterChairMark = await as('thuky', 'GET', `/api/v1/meetings/${meetingId}/attendance`);
    const row = parseCsv(attendanceCsv(afterChairMark.body).slice(1)).find((cells) => cells[1] === 'Trần Quốc Bảo')!;
    assert.equal(row[9], 'Mã QR tại phòng họp, Chủ trì điểm danh');

    const secretaryMark = await as('thuky', 'PUT', `/api/v1/meetings/${meetingId}/attendance/${bao}`, { status: 'present_in_person' });
    assert.equal(secretaryMark.body.markedByRole, 'secretary');
    const board = await as('thuky', 'GET', `/api/v1/meetings/${meetingId}/attendance`);
    assert.equal(board.body.scope, 'all');
    assert.equal(board.body.meeting.status, 'scheduled');
    const own = await as('thamdu', 'GET', `/api/v1/meetings/${meetingId}/attendance`);
    assert.equal(own.body.scope, 'own');
  });

  test('XLSX report matches the CSV', async () => {
    const csv = await fetch(`${hop.baseUrl}/api/v1/meetings/${meetingId}/attendance/report?format=csv`, { headers: sessions.thuky!.headers });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    const csvBytes = Buffer.from(await csv.arrayBuffer());
    assert.deepEqual([...csvBytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'CSV starts with the UTF-8 byte order mark');
    const csvText = csvBytes.toString('utf8');

    const response = await fetch(`${hop.baseUrl}/api/v1/meetings/${meetingId}/attendance/report?format=xlsx`, { headers: sessions.thuky!.headers });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-hop-body-encoding'), null);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(Buffer.from(await response.arrayBuffer()) as unknown as ArrayBuffer);
    const sheet = workbook.getWorksheet('Điểm danh')!;
    const pad = (value: number) => String(value).padStart(2, '0');
    const cellText = (value: ExcelJS.CellValue) => {
      if (value === null || value === undefined) return '';
      if (value instanceof Date) return `${pad(value.getUTCDate())}/${pad(value.getUTCMonth() + 1)}/${value.getUTCFullYear()} ${pad(value.getUTCHours())}:${pad(value.getUTCMinutes())}`;
      return String(value);
    };
    const xlsxRows: string[][] = [];
    sheet.eachRow((row) => xlsxRows.push(Array.from({ length: 11 }, (_, index) => cellText(row.getCell(index + 1).value))));
    const csvRows = parseCsv(csvText.slice(1));
    assert.deepEqual(xlsxRows, csvRows);
    assert.equal(csvRows[0]![1], 'Họ và tên');
    const absent = csvRows.find((row) => row[1] === 'Hoàng Thị Thu')!;
    assert.deepEqual([absent[2], absent[3], absent[5], absent[10]], ['Sở Nội vụ', 'Phó Trưởng phòng', 'Vắng mặt có lý do', 'Đi công tác tại huyện A Lưới']);
    const delegated = csvRows.find((row) => row[1] === 'Nguyễn Hữu Phước')!;
    assert.equal(delegated[10], 'Ngô Thị Hạnh (Phó Giám đốc)');
    // The role names of the meeting form: "Thành phần tham dự" is the whole list, not one person's role.
    assert.equal(csvRows.find((row) => row[1] === 'Trần Quốc Bảo')![4], 'Người tham dự');
    assert.equal(csvRows.find((row) => row[1] === 'Phan Văn Hùng')![4], 'Chủ trì');

    const downloads = await hop.platform.database.db.selectFrom('audit_record').selectAll().where('action', '=', 'attendance.report-downloaded').execute();
    assert.deepEqual(downloads.map((row) => (row.after as { format: string }).format).sort(), ['csv', 'xlsx']);
    const denied = await as('thamdu', 'GET', `/api/v1/meetings/${meetingId}/attendance/report?format=csv`);
    assert.equal(denied.status, 403);
  });

  test('unit report by person and unit', async () => {
    const from = new Date(Date.now() - 24 * 3600_000).toISOString();
    const to = new Date(Date.now() + 24 * 3600_000).toISOString();
    const path = `/api/v1/attendance/report?unitId=${unitId}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    const report = await as('tochuc', 'GET', path);
    assert.equal(report.status, 200, JSON.stringify(report.body));
    assert.equal(report.body.occurrences.length, 1);
    const bao = report.body.byPerson.find((p: any) => p.name === 'Trần Quốc Bảo');
    assert.deepEqual([bao.invited, bao.present, bao.missed, bao.rate], [1, 1, 0, 100]);
    const thu = report.body.byPerson.find((p: any) => p.name === 'Hoàng Thị Thu');
    assert.deepEqual([thu.present, thu.missed], [0, 1]);
    assert.equal((await as('thamdu', 'GET', path)).status, 403);
    const badPeriod = await as('tochuc', 'GET', `/api/v1/attendance/report?unitId=${unitId}&from=${encodeURIComponent(to)}&to=${encodeURIComponent(from)}`);
    assert.equal(badPeriod.body.error.code, 'REPORT_PERIOD_INVALID');
  });

  test('unit report CSV by unit', async () => {
    const from = new Date(Date.now() - 24 * 3600_000).toISOString();
    const to = new Date(Date.now() + 24 * 3600_000).toISOString();
    const base = `${hop.baseUrl}/api/v1/attendance/report?unitId=${unitId}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&format=csv`;
    const byUnit = await fetch(`${base}&table=units`, { headers: sessions.tochuc!.headers });
    assert.equal(byUnit.status, 200);
    assert.match(byUnit.headers.get('content-disposition') ?? '', /ty-le-tham-du-theo-don-vi-/);
    const unitRows = parseCsv((await byUnit.text()).replace(/^\uFEFF/, ''));
    assert.deepEqual(unitRows[0], ['Đơn vị', 'Số lượt được mời', 'Số lượt có mặt', 'Tỷ lệ tham dự (%)']);
    // Four people of Sở Nội vụ were invited and Bảo came; Phước has no account, so no unit.
    assert.deepEqual(unitRows.find((row) => row[0] === 'Sở Nội vụ'), ['Sở Nội vụ', '4', '1', '25']);
    assert.deepEqual(unitRows.find((row) => row[0] === 'Chưa rõ đơn vị'), ['Chưa rõ đơn vị', '1', '1', '100']);

    const byPerson = await fetch(base, { headers: sessions.tochuc!.headers });
    assert.match(byPerson.headers.get('content-disposition') ?? '', /ty-le-tham-du-theo-nguoi-/);
    const personRows = parseCsv((await byPerson.text()).replace(/^\uFEFF/, ''));
    assert.equal(personRows[0]![0], 'Họ và tên');
    assert.equal(personRows.length, 6);

    const badTable = await as('tochuc', 'GET', `/api/v1/attendance/report?unitId=${unitId}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&format=csv&table=rooms`);
    assert.equal(badTable.status, 400);
  });
});

/** Parses RFC 4180 CSV (quoted fields, CRLF) into rows. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"';
        index++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\r') continue;
    else if (char === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += char;
  }
  return rows;
}
