// Texts of the attendance pages (board, marking, reports, kiosk, check-in),
// Vietnamese first. The language switch is the one of i18n.js.
import { language } from './i18n.js';

const texts = {
  vi: {
    switchLanguage: 'English',
    boardTitle: 'Điểm danh',
    backToSchedule: '← Lịch họp',
    invited: 'Được mời',
    present: 'Có mặt',
    online: 'Trực tuyến',
    inRoom: 'Tại phòng họp',
    missing: 'Chưa có mặt',
    rate: 'Tỷ lệ tham dự',
    name: 'Họ và tên',
    unit: 'Đơn vị',
    position: 'Chức vụ',
    status: 'Trạng thái',
    firstJoin: 'Vào lần đầu',
    lastLeave: 'Rời lần cuối',
    minutes: 'Số phút trực tuyến',
    method: 'Hình thức',
    note: 'Lý do vắng / Người được ủy quyền',
    mark: 'Điểm danh',
    save: 'Lưu',
    reason: 'Lý do vắng (bắt buộc)',
    delegateName: 'Họ tên người được ủy quyền',
    delegatePosition: 'Chức vụ người được ủy quyền',
    statuses: {
      present_in_person: 'Có mặt trực tiếp',
      present_online: 'Tham dự trực tuyến',
      late: 'Đến muộn',
      absent: 'Vắng mặt có lý do',
      delegated: 'Ủy quyền',
      missing: 'Vắng mặt không lý do',
    },
    onlineNow: 'đang trực tuyến',
    reconnecting: 'đang kết nối lại',
    methods: { online: 'Trực tuyến', qr: 'Mã QR', manual: 'Thư ký điểm danh' },
    refused: 'Điểm danh bị từ chối',
    refusedCodes: { CHECK_IN_NOT_INVITED: 'không có trong thành phần tham dự', CHECK_IN_CODE_EXPIRED: 'mã đã hết hạn' },
    downloadCsv: 'Tải CSV',
    downloadXlsx: 'Tải Excel (XLSX)',
    print: 'In',
    live: 'Cập nhật trực tiếp',
    disconnected: 'Mất kết nối, đang thử lại…',
    unitReport: 'Tỷ lệ tham dự theo đơn vị',
    from: 'Từ ngày',
    to: 'Đến ngày',
    show: 'Xem',
    byUnit: 'Theo đơn vị',
    byPerson: 'Theo người',
    meetingsInvited: 'Số buổi được mời',
    meetingsPresent: 'Số buổi có mặt',
    meetingsMissed: 'Số buổi vắng',
    kioskTitle: 'Điểm danh tại phòng họp',
    kioskScan: 'Quét mã QR bằng điện thoại đã đăng nhập hop để điểm danh. Mã đổi sau mỗi 30 giây.',
    kioskNoMeeting: 'Hiện không có cuộc họp nào tại phòng này.',
    kioskNoRoom: 'Đường dẫn thiếu mã phòng họp. Hãy mở trang này bằng đường dẫn kiosk của phòng: /kiosk.html?room=<mã phòng họp>.',
    checkedIn: 'Đã điểm danh',
    checkinTitle: 'Điểm danh',
    checkinWorking: 'Đang điểm danh…',
    checkinDone: 'Đã ghi nhận bạn có mặt tại cuộc họp',
    checkinAlready: 'Bạn đã điểm danh lúc',
    checkinNoCode: 'Không có mã điểm danh. Hãy quét mã QR tại phòng họp.',
    networkError: 'Không kết nối được máy chủ. Vui lòng thử lại.',
  },
  en: {
    switchLanguage: 'Tiếng Việt',
    boardTitle: 'Attendance',
    backToSchedule: '← Schedule',
    invited: 'Invited',
    present: 'Present',
    online: 'Online',
    inRoom: 'In the room',
    missing: 'Not present',
    rate: 'Attendance rate',
    name: 'Name',
    unit: 'Unit',
    position: 'Position',
    status: 'Status',
    firstJoin: 'First join',
    lastLeave: 'Last leave',
    minutes: 'Minutes online',
    method: 'Check-in method',
    note: 'Absence reason / delegate',
    mark: 'Mark',
    save: 'Save',
    reason: 'Reason for absence (required)',
    delegateName: "Delegate's name",
    delegatePosition: "Delegate's position",
    statuses: {
      present_in_person: 'Present in person',
      present_online: 'Present online',
      late: 'Late',
      absent: 'Absent (reason)',
      delegated: 'Delegate',
      missing: 'Absent',
    },
    onlineNow: 'online now',
    reconnecting: 'reconnecting',
    methods: { online: 'Online', qr: 'QR code', manual: 'Marked by the secretary' },
    refused: 'Refused check-ins',
    refusedCodes: { CHECK_IN_NOT_INVITED: 'not a participant', CHECK_IN_CODE_EXPIRED: 'code expired' },
    downloadCsv: 'Download CSV',
    downloadXlsx: 'Download Excel (XLSX)',
    print: 'Print',
    live: 'Live',
    disconnected: 'Connection lost, retrying…',
    unitReport: 'Attendance rate by unit',
    from: 'From',
    to: 'To',
    show: 'Show',
    byUnit: 'By unit',
    byPerson: 'By person',
    meetingsInvited: 'Meetings invited',
    meetingsPresent: 'Meetings present',
    meetingsMissed: 'Meetings missed',
    kioskTitle: 'Meeting room check-in',
    kioskScan: 'Scan the QR code with a phone signed in to hop to check in. The code changes every 30 seconds.',
    kioskNoMeeting: 'No meeting in this room now.',
    kioskNoRoom: 'The link has no meeting room. Open this page with the room kiosk link: /kiosk.html?room=<meeting room id>.',
    checkedIn: 'Checked in',
    checkinTitle: 'Check in',
    checkinWorking: 'Checking in…',
    checkinDone: 'You are recorded as present at the meeting',
    checkinAlready: 'You checked in at',
    checkinNoCode: 'No check-in code. Scan the QR code in the meeting room.',
    networkError: 'Cannot reach the server. Please try again.',
  },
};

export function at() {
  return texts[language()];
}

/** Calls the API with the session cookie and CSRF token; returns status and parsed body. */
export async function api(path, options = {}) {
  const headers = { 'content-type': 'application/json', ...options.headers };
  const csrf = sessionStorage.getItem('hop.csrf');
  if ((options.method ?? 'GET') !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  let response;
  try {
    response = await fetch(path, { ...options, headers });
  } catch {
    return { ok: false, status: 0, body: null };
  }
  const body = await response.json().catch(() => null);
  if (response.status === 401) window.location.assign(`/login.html?next=${encodeURIComponent(location.pathname + location.search + location.hash)}`);
  return { ok: response.ok, status: response.status, body };
}

/** Signs the page in: stores the CSRF token of the cookie session. Returns the user or null. */
export async function signedIn() {
  const me = await api('/api/v1/auth/me');
  if (!me.ok || me.body?.kind !== 'user') return null;
  if (me.body.csrfToken) sessionStorage.setItem('hop.csrf', me.body.csrfToken);
  return me.body.user;
}
