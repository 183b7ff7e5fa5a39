/**
 * The authorization matrix through HTTP: every protected endpoint × every kind
 * of caller, against one meeting of unit A. The expected result of each cell
 * comes from the policy (`decide`), which lib/domain/policy.test.ts checks
 * against a matrix written by hand; this test checks that every endpoint
 * enforces it. Cells: allowed when the endpoint goes past its permission check
 * (2xx, or MEDIA_OFF for a join while media is off), denied on 401, 403 or a
 * 404 that hides the meeting.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { decide, type Action, type MeetingContext, type Principal } from '../lib/domain/policy.ts';
import { meetingRequest, startTestPlatform, type TestPlatform } from '../test/support/platform.ts';
import { createApiKey } from './auth/api-keys.ts';
import { createLocalAccount } from './auth/accounts.ts';

const password = 'mật khẩu đủ dài 2026';

interface Caller {
  name: string;
  headers: Record<string, string>;
  principal: Principal;
}

interface Endpoint {
  name: string;
  action: Action;
  /** Checked at the permission gate only (see `gateEndpoints`). */
  gate?: boolean;
  /** A second action that also lets a caller through, for routes that serve both (all attendance, or one's own). */
  orAction?: Action;
  call: (hop: TestPlatform, headers: Record<string, string>) => Promise<{ status: number; body: any }>;
}

describe('authorization matrix over HTTP', () => {
  let hop: TestPlatform;
  let unitA: string;
  let meetingId: string;
  let meeting: MeetingContext;
  const callers: Caller[] = [];
  let roles: Map<string, MeetingContext['meetingRole']>;
  let ip = 100;

  async function person(username: string, displayName: string, systemRole: 'admin' | 'organiser' | 'member' | 'guest', unitId: string | null) {
    const { userId } = await createLocalAccount(hop.platform.database.db, { username, displayName, password, systemRole });
    if (unitId) await hop.platform.database.db.insertInto('membership').values({ user_id: userId, unit_id: unitId, position: null }).execute();
    const response = await hop.requestAs(null, 'POST', '/api/v1/auth/login', { username, password }, { 'x-forwarded-for': `127.0.1.${ip++}` });
    assert.equal(response.status, 200, `sign-in of ${username}`);
    const cookie = /^(hop_session=[^;]+)/.exec(response.headers.get('set-cookie') ?? '')![1]!;
    return { userId, headers: { cookie, 'x-csrf-token': response.body.csrfToken as string } };
  }

  before(async () => {
    hop = await startTestPlatform();
    unitA = (await hop.request('POST', '/api/v1/units', { kind: 'department', name: 'Sở Giáo dục và Đào tạo' })).body.id;
    const unitB = (await hop.request('POST', '/api/v1/units', { kind: 'commune', name: 'UBND xã Hương Nguyên' })).body.id;

    const admin = await person('quantri', 'Quản trị', 'admin', null);
    const organiserA = await person('tochuc.a', 'Tổ chức A', 'organiser', unitA);
    const organiserB = await person('tochuc.b', 'Tổ chức B', 'organiser', unitB);
    const chair = await person('chutri.a', 'Chủ trì A', 'member', unitA);
    const secretary = await person('thuky.a', 'Thư ký A', 'member', unitA);
    const participant = await person('thamdu.a', 'Tham dự A', 'member', unitA);
    const observer = await person('dusthinh.a', 'Dự thính A', 'member', unitA);
    const outsider = await person('chuyenvien.a', 'Chuyên viên A', 'member', unitA);
    const otherUnit = await person('canbo.b', 'Cán bộ B', 'member', unitB);
    const guest = await person('khach', 'Khách mời', 'guest', null);
    const adminId = (await hop.platform.database.db.selectFrom('app_user').select('id').where('system_role', '=', 'admin').executeTakeFirstOrThrow()).id;
    const reader = await createApiKey(hop.platform.database.db, { name: 'reader', scopes: ['meetings:read', 'directory:read'], createdBy: adminId });

    const startsAt = new Date(Date.now() - 5 * 60_000);
    const endsAt = new Date(Date.now() + 60 * 60_000);
    const created = await hop.request(
      'POST',
      '/api/v1/meetings',
      meetingRequest({
        unitId: unitA,
        startsAt: startsAt.toISOString(),
        endsAt: endsAt.toISOString(),
        participants: [
          { name: 'Chủ trì A', userId: chair.userId, role: 'chair' },
          { name: 'Thư ký A', userId: secretary.userId, role: 'secretary' },
          { name: 'Tham dự A', userId: participant.userId, role: 'participant' },
          { name: 'Dự thính A', userId: observer.userId, role: 'observer' },
          { name: 'Khách mời', userId: guest.userId, role: 'guest' },
        ],
      }),
    );
    assert.equal(created.status, 201);
    meetingId = created.body.id;
    roles = new Map([
      [chair.userId, 'chair'],
      [secretary.userId, 'secretary'],
      [participant.userId, 'participant'],
      [observer.userId, 'observer'],
      [guest.userId, 'guest'],
    ]);
    meeting = { unitId: unitA, meetingRole: null, startsAt, endsAt };

    const user = (name: string, session: { userId: string; headers: Record<string, string> }, systemRole: 'admin' | 'organiser' | 'member' | 'guest', unitIds: string[]): Caller => ({
      name,
      headers: session.headers,
      principal: { kind: 'user', userId: session.userId, systemRole, unitIds },
    });
    callers.push(
      user('admin', admin, 'admin', []),
      user('organiser of the unit', organiserA, 'organiser', [unitA]),
      user('organiser of another unit', organiserB, 'organiser', [unitB]),
      user('chair', chair, 'member', [unitA]),
      user('secretary', secretary, 'member', [unitA]),
      user('participant', participant, 'member', [unitA]),
      user('observer', observer, 'member', [unitA]),
      user('member of the unit, not invited', outsider, 'member', [unitA]),
      user('member of another unit', otherUnit, 'member', [unitB]),
      user('guest, invited', guest, 'guest', []),
      { name: 'API key with read scopes', headers: { authorization: `Bearer ${reader.token}` }, principal: { kind: 'api-key', keyId: reader.key.id, scopes: ['meetings:read', 'directory:read'] } },
      { name: 'anonymous', headers: {}, principal: { kind: 'anonymous' } },
    );
  });

  after(async () => {
    await hop.stop();
  });

  const endpoints: Endpoint[] = [
    { name: 'POST /api/v1/meetings', action: 'meeting.create', call: (h, headers) => h.requestAs(null, 'POST', '/api/v1/meetings', meetingRequest({ unitId: unitA }), headers) },
    { name: 'GET /api/v1/meetings/:id', action: 'meeting.read', call: (h, headers) => h.requestAs(null, 'GET', `/api/v1/meetings/${meetingId}`, undefined, headers) },
    { name: 'GET /api/v1/meetings/:id/changes', action: 'meeting.read', call: (h, headers) => h.requestAs(null, 'GET', `/api/v1/meetings/${meetingId}/changes`, undefined, headers) },
    { name: 'PATCH /api/v1/meetings/:id', action: 'meeting.update', call: (h, headers) => h.requestAs(null, 'PATCH', `/api/v1/meetings/${meetingId}`, { preparation: `Chuẩn bị ${Math.random()}` }, headers) },
    // Before the cancel below, which makes the meeting's cap unchangeable.
    { name: 'PUT /api/v1/meetings/:id/media', action: 'meeting.update', call: (h, headers) => h.requestAs(null, 'PUT', `/api/v1/meetings/${meetingId}/media`, { maxConnections: 50 }, headers) },
    { name: 'POST /api/v1/meetings/:id/cancel', action: 'meeting.update', call: (h, headers) => h.requestAs(null, 'POST', `/api/v1/meetings/${meetingId}/cancel`, {}, headers) },
    { name: 'POST /api/v1/meetings/:id/join', action: 'meeting.join', call: (h, headers) => h.requestAs(null, 'POST', `/api/v1/meetings/${meetingId}/join`, {}, headers) },
    { name: 'GET /api/v1/meetings/:id/media', action: 'meeting.read', call: (h, headers) => h.requestAs(null, 'GET', `/api/v1/meetings/${meetingId}/media`, undefined, headers) },
    // Without `raised` the route reads the caller's own hand; the key or the signed-in invitation decides, as for a join.
    { name: 'POST /api/v1/meetings/:id/hand', action: 'meeting.join', call: (h, headers) => h.requestAs(null, 'POST', `/api/v1/meetings/${meetingId}/hand`, {}, headers) },
    {
      name: 'POST /api/v1/meetings/:id/hands/:participantId/lower',
      action: 'hand.lower',
      call: async (h, headers) => {
        const participantId = (await h.request('GET', `/api/v1/meetings/${meetingId}`)).body.participants[2].id as string;
        return h.requestAs(null, 'POST', `/api/v1/meetings/${meetingId}/hands/${participantId}/lower`, {}, headers);
      },
    },
    { name: 'GET /api/v1/meetings/:id/documents', action: 'document.read', call: (h, headers) => h.requestAs(null, 'GET', `/api/v1/meetings/${meetingId}/documents`, undefined, headers) },
    { name: 'POST /api/v1/meetings/:id/uploads', action: 'document.upload', call: (h, headers) => h.requestAs(null, 'POST', `/api/v1/meetings/${meetingId}/uploads`, { fileName: `Báo cáo ${Math.random()}.pdf`, sizeBytes: 1000 }, headers) },
    { name: 'GET /api/v1/units', action: 'directory.read', call: (h, headers) => h.requestAs(null, 'GET', '/api/v1/units', undefined, headers) },
    { name: 'GET /api/v1/users', action: 'directory.read', call: (h, headers) => h.requestAs(null, 'GET', '/api/v1/users?q=a', undefined, headers) },
    { name: 'POST /api/v1/units', action: 'directory.manage', call: (h, headers) => h.requestAs(null, 'POST', '/api/v1/units', { kind: 'office', name: `Phòng ${Math.random()}` }, headers) },
    { name: 'GET /api/v1/audit', action: 'audit.read', call: (h, headers) => h.requestAs(null, 'GET', '/api/v1/audit', undefined, headers) },
    { name: 'POST /api/v1/admin/api-keys', action: 'api-key.manage', call: (h, headers) => h.requestAs(null, 'POST', '/api/v1/admin/api-keys', { name: 'k', scopes: ['meetings:read'] }, headers) },
    { name: 'GET /api/v1/meeting-rooms', action: 'meeting-room.read', call: (h, headers) => h.requestAs(null, 'GET', '/api/v1/meeting-rooms', undefined, headers) },
    { name: 'POST /api/v1/meeting-rooms', action: 'meeting-room.manage', call: (h, headers) => h.requestAs(null, 'POST', '/api/v1/meeting-rooms', { name: `Phòng họp ${Math.random()}` }, headers) },
    { name: 'POST /api/v1/calendar/feed-token', action: 'calendar.feed', call: (h, headers) => h.requestAs(null, 'POST', '/api/v1/calendar/feed-token', {}, headers) },
    { name: 'GET /api/v1/admin/webhooks', action: 'notification.manage', call: (h, headers) => h.requestAs(null, 'GET', '/api/v1/admin/webhooks', undefined, headers) },
    {
      name: 'PUT /api/v1/meetings/:id/attendance/:participantId',
      action: 'attendance.manage',
      call: async (h, headers) => {
        const participantId = (await h.request('GET', `/api/v1/meetings/${meetingId}`)).body.participants[2].id as string;
        return h.requestAs(null, 'PUT', `/api/v1/meetings/${meetingId}/attendance/${participantId}`, { status: 'present_online' }, headers);
      },
    },
    { name: 'GET /api/v1/meetings/:id/attendance/report', action: 'attendance.read-all', call: (h, headers) => h.requestAs(null, 'GET', `/api/v1/meetings/${meetingId}/attendance/report?format=csv`, undefined, headers) },
  ];

  /**
   * The other routes, checked at the permission gate only: a caller the
   * policy allows must get past it (any answer but 401, 403 or a 404 that
   * hides the meeting; the ids of sub-resources are made up, so 400, 404 or
   * 409 follow), and a caller it denies must not. Routes with a
   * `com.hop.permission` annotation come from stack.yml; the meeting routes
   * that check inside their function are listed with their action.
   */
  const unknownId = '00000000-0000-4000-8000-00000000abcd';
  // A valid body where the function checks the body before the permission, so that a denied caller is refused by the check under test.
  const meetingRoutes: { route: string; action: Action; orAction?: Action; body?: unknown }[] = [
    { route: 'GET /api/v1/meetings/:id/attendance', action: 'attendance.read-all', orAction: 'attendance.read-own' },
    { route: 'GET /api/v1/meetings/:id/uploads/:uploadId', action: 'document.upload' },
    { route: 'POST /api/v1/meetings/:id/uploads/:uploadId/confirm', action: 'document.upload' },
    { route: 'GET /api/v1/meetings/:id/documents/:documentId/download', action: 'document.read' },
    { route: 'PUT /api/v1/meetings/:id/reminders', action: 'meeting.update', body: { offsetsMinutes: null } },
    {
      route: 'PATCH /api/v1/meetings/:id/occurrences/:occurrenceId',
      action: 'meeting.update',
      body: { startsAt: new Date(Date.now() + 7 * 86_400_000).toISOString(), endsAt: new Date(Date.now() + 7 * 86_400_000 + 3_600_000).toISOString() },
    },
    { route: 'POST /api/v1/meetings/:id/occurrences/:occurrenceId/cancel', action: 'meeting.update' },
    { route: 'POST /api/v1/meetings/:id/schedule', action: 'meeting.update' },
    { route: 'POST /api/v1/meetings/:id/start', action: 'meeting.update' },
    // These two change the meeting's state, so they come last.
    { route: 'POST /api/v1/meetings/:id/postpone', action: 'meeting.update' },
    { route: 'POST /api/v1/meetings/:id/end', action: 'meeting.update' },
  ];
  const stack = parseYaml(readFileSync(new URL('../stack.yml', import.meta.url), 'utf8')) as { functions: Record<string, { annotations?: Record<string, string> }> };
  const covered = new Set(endpoints.map((endpoint) => endpoint.name));
  const annotated = Object.values(stack.functions)
    .flatMap((fn) => (fn.annotations?.['com.hop.route'] && fn.annotations['com.hop.permission'] ? [{ route: fn.annotations['com.hop.route'], action: fn.annotations['com.hop.permission'] as Action }] : []))
    .filter((entry) => !covered.has(entry.route));
  const gateEndpoints: Endpoint[] = [...annotated, ...meetingRoutes].map(({ route, action, ...rest }) => {
    const body = 'body' in rest && rest.body !== undefined ? rest.body : {};
    const [method, template] = route.split(' ') as [string, string];
    const path = template
      .replace(':id', template.startsWith('/api/v1/meetings/') ? '{meeting}' : unknownId)
      .replace(':date', '2027-01-01')
      .replace(/:[A-Za-z]+/g, unknownId);
    return {
      name: route,
      action,
      orAction: 'orAction' in rest ? (rest.orAction as Action | undefined) : undefined,
      gate: true,
      call: (h, headers) => h.requestAs(null, method, path.replace('{meeting}', meetingId), method === 'GET' || method === 'DELETE' ? undefined : body, headers),
    };
  });

  /** Denied at a gate: not signed in, not allowed, or the meeting hidden. */
  function deniedAtGate(response: { status: number; body: any }): boolean {
    if (response.status === 401 || response.status === 403) return true;
    return response.status === 404 && response.body?.error?.code === 'MEETING_NOT_FOUND';
  }

  function allowed(response: { status: number; body: any }): boolean {
    if (response.status >= 200 && response.status < 300) return true;
    return response.body?.error?.code === 'MEDIA_OFF';
  }

  test('every endpoint enforces the policy', async (t) => {
    const rows: string[] = [];
    let cases = 0;
    // Endpoints that change the meeting run last, the gate-only ones (postpone, end) at the very end.
    const ordered = [
      ...endpoints.filter((endpoint) => endpoint.action !== 'meeting.update'),
      ...gateEndpoints.filter((endpoint) => endpoint.action !== 'meeting.update'),
      ...endpoints.filter((endpoint) => endpoint.action === 'meeting.update'),
      ...gateEndpoints.filter((endpoint) => endpoint.action === 'meeting.update'),
    ];
    for (const endpoint of ordered) {
      const cells: string[] = [];
      for (const caller of callers) {
        const meetingRole = caller.principal.kind === 'user' ? (roles.get(caller.principal.userId) ?? null) : null;
        const context = { meeting: { ...meeting, meetingRole }, unitId: unitA };
        const expected = decide(caller.principal, endpoint.action, context).allow || (endpoint.orAction !== undefined && decide(caller.principal, endpoint.orAction, context).allow);
        const response = await endpoint.call(hop, caller.headers);
        if (endpoint.gate) {
          assert.equal(!deniedAtGate(response), expected, `${endpoint.name} as ${caller.name}: ${response.status} ${response.body?.error?.code ?? ''}`);
        } else {
          assert.equal(allowed(response), expected, `${endpoint.name} as ${caller.name}: ${response.status} ${response.body?.error?.code ?? ''}`);
          if (!expected) assert.ok([401, 403, 404, 400].includes(response.status), `${endpoint.name} as ${caller.name}: denied with ${response.status}`);
        }
        cells.push(expected ? 'yes' : 'no');
        cases++;
      }
      rows.push(`${endpoint.name}: ${cells.join(' ')}`);
    }
    t.diagnostic(`${ordered.length} endpoints × ${callers.length} callers = ${cases} HTTP cases (${gateEndpoints.length} of the endpoints checked at the gate only)`);
    assert.equal(cases, (endpoints.length + gateEndpoints.length) * callers.length);
  });
});
