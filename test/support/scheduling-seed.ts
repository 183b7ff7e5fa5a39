/**
 * Directory and meeting rooms for the scheduling screens, used by the
 * browser test and by scripts/screenshots.ts: a department with two
 * offices, a commune, an organiser who signs in with a password, members to
 * invite and two physical meeting rooms.
 */
import { createLocalAccount } from '../../gateway/auth/accounts.ts';
import type { TestPlatform } from './platform.ts';

export const SEED_PASSWORD = 'mật khẩu đủ dài 2026';

export interface SchedulingSeed {
  organiser: { userId: string; username: string; displayName: string };
  units: { department: string; office: string; secondOffice: string; commune: string };
  people: { chair: string; secretary: string; member: string; communeMember: string };
  rooms: { large: string; small: string };
}

async function post(hop: TestPlatform, path: string, body: unknown): Promise<any> {
  const response = await hop.request('POST', path, body);
  if (response.status !== 201 && response.status !== 200) {
    throw new Error(`seeding ${path} failed with HTTP ${response.status}: ${JSON.stringify(response.body)}`);
  }
  return response.body;
}

/** Creates the seed data through the admin API (and the organiser's local account directly in the database). */
export async function seedScheduling(hop: TestPlatform): Promise<SchedulingSeed> {
  const department = (await post(hop, '/api/v1/units', { kind: 'department', name: 'Sở Thông tin và Truyền thông', code: 'STTTT' })).id as string;
  const office = (await post(hop, '/api/v1/units', { kind: 'office', name: 'Văn phòng Sở', parentId: department })).id as string;
  const secondOffice = (await post(hop, '/api/v1/units', { kind: 'office', name: 'Phòng Bưu chính, Viễn thông', parentId: department })).id as string;
  const commune = (await post(hop, '/api/v1/units', { kind: 'commune', name: 'UBND xã Hồng Vân' })).id as string;

  const db = hop.platform.database.db;
  const displayName = 'Trần Thị Mai';
  const organiser = await createLocalAccount(db, { username: 'thuky.stttt', displayName, password: SEED_PASSWORD, systemRole: 'organiser' });
  await db.insertInto('membership').values({ user_id: organiser.userId, unit_id: department, position: 'Chánh Văn phòng' }).execute();

  const person = async (name: string, email: string, unitId: string, position: string) =>
    (await post(hop, '/api/v1/users', { displayName: name, email, memberships: [{ unitId, position }] })).id as string;
  const chair = await person('Nguyễn Văn Hùng', 'hung.nv@stttt.example.gov.vn', department, 'Giám đốc Sở');
  const secretary = await person('Lê Thị Thu Hà', 'ha.ltt@stttt.example.gov.vn', office, 'Chuyên viên');
  const member = await person('Phạm Đức Thắng', 'thang.pd@stttt.example.gov.vn', secondOffice, 'Trưởng phòng');
  const communeMember = await person('Hồ Văn Khiêm', 'khiem.hv@hongvan.example.gov.vn', commune, 'Chủ tịch UBND xã');

  const large = (await post(hop, '/api/v1/meeting-rooms', {
    name: 'Phòng họp số 1',
    unitId: department,
    location: 'Tầng 3, 06 Lê Lợi',
    capacity: 40,
    equipment: 'Màn hình LED, 2 camera, micro cổ ngỗng',
  })).id as string;
  const small = (await post(hop, '/api/v1/meeting-rooms', { name: 'Phòng họp nhỏ', unitId: department, location: 'Tầng 2, 06 Lê Lợi', capacity: 3 })).id as string;

  return {
    organiser: { ...organiser, displayName },
    units: { department, office, secondOffice, commune },
    people: { chair, secretary, member, communeMember },
    rooms: { large, small },
  };
}
