// Interface texts, Vietnamese first with English available. The chosen
// language is kept in localStorage under "hop.lang".
const texts = {
  vi: {
    appName: 'hop — Họp trực tuyến',
    tagline: 'Lịch họp và phòng họp trực tuyến của đơn vị',
    switchLanguage: 'English',
    signIn: 'Đăng nhập',
    signOut: 'Đăng xuất',
    username: 'Tên đăng nhập',
    password: 'Mật khẩu',
    inviteHint: 'Người được mời họp không cần đăng nhập: hãy mở đường dẫn trong giấy mời họp.',
    unit: 'Đơn vị',
    noUnit: '(Không thuộc đơn vị nào)',
    adminTitle: 'Quản trị: danh bạ, phòng họp, khóa API',
    admin: 'Quản trị',
    backToSchedule: '← Lịch họp',
    units: 'Đơn vị',
    newUnit: 'Thêm đơn vị',
    unitName: 'Tên đơn vị',
    unitKind: 'Loại',
    unitCode: 'Mã',
    parentUnit: 'Trực thuộc',
    add: 'Thêm',
    people: 'Người dùng',
    searchPeople: 'Tìm theo tên hoặc email (không cần dấu)',
    newPerson: 'Thêm người dùng',
    email: 'Email',
    position: 'Chức vụ',
    systemRole: 'Quyền',
    roleNames: { admin: 'Quản trị viên', organiser: 'Người tổ chức họp', member: 'Thành viên', guest: 'Khách' },
    setAccount: 'Đặt tài khoản',
    accountTitle: 'Tài khoản đăng nhập',
    username: 'Tên đăng nhập',
    newPassword: 'Mật khẩu mới (ít nhất 12 ký tự)',
    save: 'Lưu',
    cancel: 'Hủy',
    accountSaved: (username) => `Đã lưu tài khoản đăng nhập "${username}". Người dùng đăng nhập bằng mật khẩu mới; các phiên đăng nhập cũ đã kết thúc.`,
    disable: 'Vô hiệu hóa',
    disabled: 'Đã vô hiệu hóa',
    confirmDisable: 'Vô hiệu hóa mục này? Người dùng bị vô hiệu hóa không đăng nhập được.',
    auditExport: 'Tải nhật ký thay đổi (CSV)',
    adminOnly: 'Trang này chỉ dành cho quản trị viên.',
    schedule: 'Lịch họp',
    calendarLink: 'Xem lịch họp',
    newMeetingLink: 'Tạo cuộc họp',
    noMeetings: 'Chưa có cuộc họp nào.',
    newMeeting: 'Lập lịch họp',
    title: 'Tên cuộc họp',
    description: 'Nội dung họp',
    date: 'Ngày họp',
    startTime: 'Bắt đầu',
    endTime: 'Kết thúc',
    timeZone: 'Múi giờ',
    participants: 'Thành phần tham dự',
    participantName: 'Họ và tên',
    contact: 'Email hoặc số điện thoại',
    role: 'Vai trò',
    roles: { chair: 'Chủ trì', secretary: 'Thư ký', participant: 'Người tham dự', observer: 'Người dự thính', guest: 'Khách mời' },
    addParticipant: 'Thêm người tham dự',
    remove: 'Xóa',
    create: 'Lập lịch',
    creating: 'Đang lập lịch…',
    created: 'Đã lập lịch cuộc họp. Gửi đường dẫn tham gia riêng cho từng người:',
    copy: 'Sao chép',
    copied: 'Đã sao chép',
    open: 'Tham gia',
    cancelMeeting: 'Hủy cuộc họp',
    confirmCancel: 'Hủy cuộc họp này? Phòng họp trực tuyến sẽ bị đóng.',
    status: { draft: 'Nháp', scheduled: 'Đã lên lịch', in_progress: 'Đang họp', postponed: 'Hoãn', cancelled: 'Đã hủy', ended: 'Đã kết thúc' },
    roomStatus: { pending: 'Đang chuẩn bị phòng', ready: 'Phòng họp sẵn sàng', destroyed: 'Phòng đã đóng', failed: 'Chưa có phòng trực tuyến' },
    participantCount: (n) => `${n} người tham dự`,
    loadFailed: 'Không tải được danh sách cuộc họp. Vui lòng thử lại.',
    networkError: 'Không kết nối được máy chủ. Kiểm tra mạng và thử lại.',
    weekdays: ['Chủ nhật', 'Thứ Hai', 'Thứ Ba', 'Thứ Tư', 'Thứ Năm', 'Thứ Sáu', 'Thứ Bảy'],
  },
  en: {
    appName: 'hop — Online meetings',
    tagline: "Your unit's meeting schedule and online meeting rooms",
    switchLanguage: 'Tiếng Việt',
    signIn: 'Sign in',
    signOut: 'Sign out',
    username: 'User name',
    password: 'Password',
    inviteHint: 'People invited to a meeting need no account: open the link in the invitation.',
    unit: 'Unit',
    noUnit: '(No unit)',
    adminTitle: 'Administration: directory, meeting rooms, API keys',
    admin: 'Administration',
    backToSchedule: '← Schedule',
    units: 'Units',
    newUnit: 'Add a unit',
    unitName: 'Unit name',
    unitKind: 'Kind',
    unitCode: 'Code',
    parentUnit: 'Parent unit',
    add: 'Add',
    people: 'People',
    searchPeople: 'Search by name or e-mail (tone marks optional)',
    newPerson: 'Add a person',
    email: 'E-mail',
    position: 'Position',
    systemRole: 'Role',
    roleNames: { admin: 'Administrator', organiser: 'Meeting organiser', member: 'Member', guest: 'Guest' },
    setAccount: 'Set sign-in account',
    accountTitle: 'Sign-in account',
    username: 'User name',
    newPassword: 'New password (at least 12 characters)',
    save: 'Save',
    cancel: 'Cancel',
    accountSaved: (username) => `Saved the sign-in account "${username}". The person signs in with the new password; their old sessions have ended.`,
    disable: 'Disable',
    disabled: 'Disabled',
    confirmDisable: 'Disable this? A disabled person cannot sign in.',
    auditExport: 'Download the change log (CSV)',
    adminOnly: 'This page is for administrators only.',
    schedule: 'Schedule',
    calendarLink: 'Calendar',
    newMeetingLink: 'New meeting',
    noMeetings: 'No meetings yet.',
    newMeeting: 'Schedule a meeting',
    title: 'Meeting title',
    description: 'Agenda',
    date: 'Date',
    startTime: 'Start',
    endTime: 'End',
    timeZone: 'Time zone',
    participants: 'Participants',
    participantName: 'Full name',
    contact: 'E-mail or phone',
    role: 'Role',
    roles: { chair: 'Chair', secretary: 'Secretary', participant: 'Participant', observer: 'Observer', guest: 'Guest' },
    addParticipant: 'Add participant',
    remove: 'Remove',
    create: 'Schedule',
    creating: 'Scheduling…',
    created: 'Meeting scheduled. Send each person their own join link:',
    copy: 'Copy',
    copied: 'Copied',
    open: 'Join',
    cancelMeeting: 'Cancel meeting',
    confirmCancel: 'Cancel this meeting? Its online room will be closed.',
    status: { draft: 'Draft', scheduled: 'Scheduled', in_progress: 'In progress', postponed: 'Postponed', cancelled: 'Cancelled', ended: 'Ended' },
    roomStatus: { pending: 'Preparing room', ready: 'Room ready', destroyed: 'Room closed', failed: 'No online room' },
    participantCount: (n) => `${n} participant${n === 1 ? '' : 's'}`,
    loadFailed: 'Could not load the meetings. Please try again.',
    networkError: 'Cannot reach the server. Check the network and try again.',
    weekdays: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'],
  },
};

export function language() {
  const stored = globalThis.localStorage?.getItem('hop.lang');
  return stored === 'en' ? 'en' : 'vi';
}

export function setLanguage(lang) {
  globalThis.localStorage?.setItem('hop.lang', lang === 'en' ? 'en' : 'vi');
}

export function t() {
  return texts[language()];
}

/** Formats an instant as "Thứ Hai, 07/12/2026 14:30" in the given IANA time zone. */
export function formatDateTime(iso, timeZone) {
  const date = new Date(iso);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone,
      weekday: 'short',
      day: '2-digit',
      month: '2-digit',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(date)
      .map((part) => [part.type, part.value]),
  );
  const weekdayIndex = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday);
  return `${t().weekdays[weekdayIndex]}, ${parts.day}/${parts.month}/${parts.year} ${parts.hour}:${parts.minute}`;
}

export function formatTime(iso, timeZone) {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
}

/** Returns the message of an API error body in the interface language. */
export function errorMessage(body) {
  const error = body && body.error;
  if (!error) return t().networkError;
  if (!Array.isArray(error.details)) return language() === 'en' ? error.message_en || error.message : error.message;

  // The details are in English for developers; Vietnamese readers get the names of the fields instead.
  if (language() === 'en') {
    const fields = error.details.map((item) => `${item.path}: ${item.message}`).join('; ');
    return `${error.message_en || error.message} (${fields})`;
  }
  const labels = [...new Set(error.details.map((item) => fieldLabel(item.path)))];
  return `${error.message} (${labels.join(', ')})`;
}

const fieldLabels = {
  unitId: 'unit',
  title: 'title',
  description: 'description',
  startsAt: 'startTime',
  endsAt: 'endTime',
  timeZone: 'timeZone',
  participants: 'participants',
};

/** Returns the form label of an API field path such as "participants.0.email". */
function fieldLabel(path) {
  const [field, index, subfield] = String(path).split('.');
  const text = t();
  if (field === 'participants' && index !== undefined) {
    const label = `${text.participants} ${Number(index) + 1}`;
    if (subfield === undefined) return label;
    return `${label}: ${subfield === 'name' ? text.participantName : text.contact}`;
  }
  return text[fieldLabels[field]] ?? field;
}
