/**
 * The error catalogue: every error a caller can see has a stable code, an HTTP
 * status, a Vietnamese message for people, an English message for logs and
 * integrators, and whether retrying the same request can help.
 * Codes are never reused for another meaning; `docs/errors.md` documents each one
 * and a test checks that it does.
 */
export interface ErrorDefinition {
  status: number;
  retryable: boolean;
  vi: string;
  en: string;
}

export const errorCatalog = {
  INVALID_JSON: {
    status: 400,
    retryable: false,
    vi: 'Nội dung gửi lên không phải JSON hợp lệ.',
    en: 'The request body is not valid JSON.',
  },
  VALIDATION_FAILED: {
    status: 400,
    retryable: false,
    vi: 'Dữ liệu gửi lên không hợp lệ. Vui lòng kiểm tra các trường được nêu.',
    en: 'The request failed validation; see the listed fields.',
  },
  END_BEFORE_START: {
    status: 400,
    retryable: false,
    vi: 'Thời gian kết thúc phải sau thời gian bắt đầu.',
    en: 'The end time must be after the start time.',
  },
  UNKNOWN_TIME_ZONE: {
    status: 400,
    retryable: false,
    vi: 'Múi giờ không hợp lệ. Hãy dùng tên múi giờ IANA, ví dụ Asia/Ho_Chi_Minh.',
    en: 'Unknown time zone; use an IANA name such as Asia/Ho_Chi_Minh.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    retryable: false,
    vi: 'Chỉ chấp nhận nội dung dạng application/json.',
    en: 'Only application/json request bodies are accepted.',
  },
  BODY_TOO_LARGE: {
    status: 413,
    retryable: false,
    vi: 'Nội dung gửi lên quá lớn.',
    en: 'The request body is larger than the limit.',
  },
  ROUTE_NOT_FOUND: {
    status: 404,
    retryable: false,
    vi: 'Không tìm thấy địa chỉ được yêu cầu.',
    en: 'No API route matches this method and path.',
  },
  MEETING_NOT_FOUND: {
    status: 404,
    retryable: false,
    vi: 'Không tìm thấy cuộc họp.',
    en: 'Meeting not found.',
  },
  NOT_INVITED: {
    status: 403,
    retryable: false,
    vi: 'Bạn không có trong thành phần tham dự cuộc họp này. Hãy dùng đúng đường dẫn trong giấy mời họp.',
    en: 'This invitation key does not belong to a participant of the meeting.',
  },
  OUTSIDE_GUEST_WINDOW: {
    status: 403,
    retryable: false,
    vi: 'Khách mời chỉ vào được phòng họp từ 30 phút trước giờ họp đến khi cuộc họp kết thúc.',
    en: 'Guests can join only from 30 minutes before the start until the end of the meeting.',
  },
  MEETING_CANCELLED: {
    status: 409,
    retryable: false,
    vi: 'Cuộc họp đã hủy.',
    en: 'The meeting has been cancelled.',
  },
  MEETING_ENDED: {
    status: 409,
    retryable: false,
    vi: 'Cuộc họp đã kết thúc.',
    en: 'The meeting has ended.',
  },
  MEETING_STATUS_CONFLICT: {
    status: 409,
    retryable: false,
    vi: 'Không thực hiện được thao tác này với cuộc họp ở trạng thái hiện tại (ví dụ: bắt đầu một cuộc họp còn là bản nháp, hoặc sửa một cuộc họp đã hủy).',
    en: 'The action is not allowed in the meeting status; details.status is the current status and details.action the attempted one.',
  },
  HAND_RAISE_OUTSIDE_MEETING: {
    status: 409,
    retryable: false,
    vi: 'Chỉ giơ tay phát biểu được từ 30 phút trước giờ họp đến khi cuộc họp kết thúc.',
    en: 'A hand can be raised only from 30 minutes before the occurrence starts until it ends; details has opensAt and closesAt.',
  },
  RECURRENCE_INVALID: {
    status: 400,
    retryable: false,
    vi: 'Quy tắc lặp lại của lịch họp không hợp lệ. Lịch họp lặp lại tối đa mỗi ngày một lần và bắt đầu đúng vào buổi họp đầu tiên.',
    en: 'The RRULE is invalid, repeats more often than daily, or does not produce the meeting start as its first occurrence; details.reason says which.',
  },
  AGENDA_TOO_LONG: {
    status: 400,
    retryable: false,
    vi: 'Tổng thời gian dự kiến của các nội dung trong chương trình họp dài hơn thời gian cuộc họp. Hãy rút bớt thời gian từng nội dung hoặc kéo dài cuộc họp.',
    en: 'The planned minutes of the agenda items add up to more than the meeting length; details has both numbers.',
  },
  MEETING_ROOM_UNAVAILABLE: {
    status: 400,
    retryable: false,
    vi: 'Phòng họp được chọn không có trong danh sách hoặc đã ngừng sử dụng.',
    en: 'The meeting room does not exist or is disabled.',
  },
  MEETING_ROOM_OVER_CAPACITY: {
    status: 400,
    retryable: false,
    vi: 'Số người tham dự nhiều hơn sức chứa của phòng họp. Hãy chọn phòng lớn hơn hoặc tổ chức họp kết hợp trực tuyến.',
    en: 'More participants than the meeting room seats; details has the participant count and the capacity.',
  },
  MEETING_ROOM_CONFLICT: {
    status: 409,
    retryable: false,
    vi: 'Phòng họp đã có lịch vào thời gian này. Hãy chọn thời gian hoặc phòng họp khác.',
    en: 'The meeting room is booked at an overlapping time; details.conflicts lists the bookings the caller may see (others only as busy).',
  },
  PEOPLE_CONFLICT: {
    status: 409,
    retryable: false,
    vi: 'Một số người tham dự đã có lịch họp khác trùng thời gian. Hãy xem danh sách, rồi đổi thời gian hoặc xác nhận vẫn giữ lịch.',
    en: 'Participants have another meeting at an overlapping time; details.conflicts lists them. Send onPeopleConflict "warn" to schedule anyway.',
  },
  NOTICE_TOO_SHORT: {
    status: 409,
    retryable: false,
    vi: 'Giấy mời họp phải đến người tham dự trước ít nhất 3 ngày làm việc (Quyết định 45/2018/QĐ-TTg). Hãy lùi ngày họp, hoặc đánh dấu là cuộc họp đột xuất nếu cần họp gấp.',
    en: 'Fewer working days between now and the meeting day than the minimum notice; details has both counts. Mark the meeting urgent to schedule it anyway.',
  },
  OCCURRENCE_NOT_FOUND: {
    status: 404,
    retryable: false,
    vi: 'Không tìm thấy buổi họp này trong lịch họp.',
    en: 'The meeting has no occurrence with this id.',
  },
  MEETING_NOT_RECURRING: {
    status: 409,
    retryable: false,
    vi: 'Cuộc họp không lặp lại; hãy sửa trực tiếp thời gian cuộc họp.',
    en: 'The meeting is not a recurring series; change its times with PATCH /api/v1/meetings/{id}.',
  },
  MEETING_ROOM_NOT_FOUND: {
    status: 404,
    retryable: false,
    vi: 'Không tìm thấy phòng họp.',
    en: 'Meeting room not found.',
  },
  CALENDAR_FEED_NOT_FOUND: {
    status: 404,
    retryable: false,
    vi: 'Đường dẫn lịch họp không đúng hoặc đã được thay mới. Hãy lấy lại đường dẫn trong hop.',
    en: 'No calendar feed has this token; it may have been rotated.',
  },
  ROOM_NOT_READY: {
    status: 409,
    retryable: true,
    vi: 'Phòng họp trực tuyến đang được chuẩn bị. Vui lòng thử lại sau ít giây.',
    en: 'The meeting room is not provisioned yet; retry in a few seconds.',
  },
  MEDIA_OFF: {
    status: 503,
    retryable: false,
    vi: 'Hệ thống chưa bật máy chủ hình ảnh và âm thanh, nên chưa vào phòng họp trực tuyến được. Vui lòng báo quản trị viên.',
    en: 'Media is off: no Janus server is configured or installed.',
  },
  MEDIA_UNAVAILABLE: {
    status: 503,
    retryable: true,
    vi: 'Máy chủ hình ảnh và âm thanh (Janus) đang không kết nối được. Vui lòng thử lại sau.',
    en: 'The Janus media server is not reachable.',
  },
  MEETING_FULL: {
    status: 503,
    retryable: true,
    vi: 'Cuộc họp đã đủ số điểm cầu kết nối tối đa, nên chưa vào được. Người chủ trì đã được báo; vui lòng thử lại khi có người rời cuộc họp.',
    en: 'The meeting has reached its cap on concurrent connections; the chair has been told. Retry when someone leaves.',
  },
  MEDIA_SERVER_FULL: {
    status: 503,
    retryable: true,
    vi: 'Máy chủ hình ảnh và âm thanh của cuộc họp đã hết chỗ, nên chưa vào được. Người chủ trì đã được báo; vui lòng thử lại sau ít phút.',
    en: 'The meeting\'s Janus server has reached its cap on concurrent connections; the chair has been told. Retry in a few minutes.',
  },
  INVITED_UNIT_NOT_FOUND: {
    status: 400,
    retryable: false,
    vi: 'Đơn vị được mời họp không có trong danh bạ. Hãy chọn lại đơn vị từ danh sách.',
    en: 'A unit invited to the meeting is not in the directory; pick the unit from the list again.',
  },
  USERNAME_INVALID: {
    status: 400,
    retryable: false,
    vi: 'Tên đăng nhập không hợp lệ: cần từ 3 đến 64 ký tự, chỉ gồm chữ cái không dấu a-z, chữ số, dấu chấm, gạch dưới, gạch ngang hoặc @, và bắt đầu bằng chữ cái hoặc chữ số.',
    en: 'Invalid user name: use 3 to 64 characters of a-z, 0-9, ".", "_", "-" or "@", starting with a letter or digit.',
  },
  USERNAME_TAKEN: {
    status: 409,
    retryable: false,
    vi: 'Tên đăng nhập này đã có người dùng. Hãy chọn tên khác.',
    en: 'Another person already has this user name.',
  },
  PASSWORD_TOO_WEAK: {
    status: 400,
    retryable: false,
    vi: 'Mật khẩu chưa đạt yêu cầu; xem các lý do được nêu.',
    en: 'The password breaks the password policy; see the listed rules.',
  },
  JOIN_TOKEN_INVALID: {
    status: 401,
    retryable: false,
    vi: 'Mã vào phòng họp không hợp lệ. Hãy mở lại đường dẫn tham gia cuộc họp.',
    en: 'The join token is missing or its signature is wrong; request new join details.',
  },
  JOIN_TOKEN_EXPIRED: {
    status: 401,
    retryable: true,
    vi: 'Mã vào phòng họp đã hết hạn. Trang sẽ lấy mã mới; nếu không được, hãy tải lại trang.',
    en: 'The join token has expired; request new join details.',
  },
  EVENT_INVALID: {
    status: 400,
    retryable: false,
    vi: 'Sự kiện không đúng định dạng CloudEvents của hop.',
    en: 'The message is not a valid hop CloudEvent.',
  },
  JANUS_EVENT_INVALID: {
    status: 400,
    retryable: false,
    vi: 'Sự kiện từ máy chủ Janus không đúng định dạng của bộ xử lý sự kiện HTTP.',
    en: 'The post is not a valid Janus HTTP event-handler event or array of events.',
  },
  UNAUTHORIZED: {
    status: 401,
    retryable: false,
    vi: 'Thiếu hoặc sai thông tin xác thực.',
    en: 'Missing or wrong credentials.',
  },
  EVENT_TYPE_UNSUPPORTED: {
    status: 422,
    retryable: false,
    vi: 'Chức năng này không xử lý loại sự kiện được gửi tới.',
    en: 'This function does not handle the event type it received.',
  },
  STORAGE_SIGNATURE_INVALID: {
    status: 403,
    retryable: false,
    vi: 'Đường dẫn tệp không hợp lệ. Vui lòng mở lại tệp từ trang cuộc họp.',
    en: 'The storage link is not valid: its signature does not match.',
  },
  STORAGE_LINK_EXPIRED: {
    status: 403,
    retryable: false,
    vi: 'Đường dẫn tệp đã hết hạn. Vui lòng mở lại tệp từ trang cuộc họp để nhận đường dẫn mới.',
    en: 'The storage link has expired; request a new link.',
  },
  STORAGE_OBJECT_NOT_FOUND: {
    status: 404,
    retryable: false,
    vi: 'Không tìm thấy tệp. Tệp có thể đã bị xóa.',
    en: 'The stored file does not exist.',
  },
  STORAGE_RANGE_NOT_SATISFIABLE: {
    status: 416,
    retryable: false,
    vi: 'Phần tệp được yêu cầu nằm ngoài kích thước tệp.',
    en: 'The requested byte range is outside the stored file.',
  },
  STORAGE_METHOD_NOT_ALLOWED: {
    status: 405,
    retryable: false,
    vi: 'Đường dẫn tệp chỉ dùng để tải xuống (GET) hoặc tải lên (PUT).',
    en: 'Storage links accept only GET (download) and PUT (upload).',
  },
  UNAVAILABLE: {
    status: 503,
    retryable: true,
    vi: 'Hệ thống đang bận hoặc chưa sẵn sàng. Vui lòng thử lại sau.',
    en: 'A dependency is not available; retry later.',
  },
  INTERNAL: {
    status: 500,
    retryable: true,
    vi: 'Đã có lỗi hệ thống. Vui lòng thử lại; nếu lỗi lặp lại, hãy báo quản trị viên.',
    en: 'Internal error.',
  },
  UNIT_NOT_FOUND: {
    status: 404,
    retryable: false,
    vi: 'Không tìm thấy đơn vị.',
    en: 'Unit not found.',
  },
  USER_NOT_FOUND: {
    status: 404,
    retryable: false,
    vi: 'Không tìm thấy người dùng.',
    en: 'User not found.',
  },
  REFERENCED_UNIT_NOT_FOUND: {
    status: 400,
    retryable: false,
    vi: 'Đơn vị được chọn (đơn vị cấp trên hoặc đơn vị công tác) không có trong danh bạ. Hãy tạo đơn vị đó trước.',
    en: 'A parent or membership unit does not exist; create it first. details.unitIds lists the unknown ids.',
  },
  DIRECTORY_UNIT_PENDING: {
    status: 503,
    retryable: true,
    vi: 'Đơn vị được nhắc tới chưa có trong danh bạ; hệ thống sẽ xử lý lại sự kiện sau.',
    en: 'A unit the directory event refers to does not exist yet; the event is retried and dead-lettered if the unit never arrives.',
  },
  UNIT_PARENT_CYCLE: {
    status: 409,
    retryable: false,
    vi: 'Không thể đặt đơn vị cấp trên như vậy: một đơn vị không thể trực thuộc chính nó hoặc đơn vị cấp dưới của nó.',
    en: 'The parent would make a cycle: a unit cannot be placed under itself or one of its subunits.',
  },
  UNIT_CODE_TAKEN: {
    status: 409,
    retryable: false,
    vi: 'Mã đơn vị đã được dùng cho một đơn vị khác.',
    en: 'Another unit already has this code.',
  },
  UNIT_DISABLED: {
    status: 409,
    retryable: false,
    vi: 'Đơn vị đã ngừng hoạt động nên không thể sửa hoặc gắn thêm vào.',
    en: 'The unit is disabled; it cannot be changed, used as a parent or given members.',
  },
  USER_DISABLED: {
    status: 409,
    retryable: false,
    vi: 'Tài khoản người dùng đã bị khóa nên không thể sửa.',
    en: 'The user is disabled and cannot be changed.',
  },
  USER_EMAIL_TAKEN: {
    status: 409,
    retryable: false,
    vi: 'Địa chỉ thư điện tử đã được dùng cho một người dùng khác.',
    en: 'Another user already has this e-mail address (compared ignoring case).',
  },
  USER_EXTERNAL_ID_TAKEN: {
    status: 409,
    retryable: false,
    vi: 'Mã định danh ngoài đã được gắn với một người dùng khác.',
    en: 'Another user already has this external id.',
  },
  HOLIDAY_NOT_FOUND: {
    status: 404,
    retryable: false,
    vi: 'Ngày này chưa có trong lịch ngày nghỉ lễ và ngày làm việc bù.',
    en: 'The holiday calendar has no entry for this date.',
  },
  WORKING_DAY_NOT_WEEKEND: {
    status: 400,
    retryable: false,
    vi: 'Chỉ có thể đặt ngày làm việc bù vào thứ Bảy hoặc Chủ nhật.',
    en: 'A working_day entry must fall on a Saturday or Sunday; weekdays are working days already.',
  },
  INVALID_CREDENTIALS: {
    status: 401,
    retryable: false,
    vi: 'Tên đăng nhập hoặc mật khẩu không đúng.',
    en: 'The user name or password is wrong.',
  },
  ACCOUNT_LOCKED: {
    status: 423,
    retryable: true,
    vi: 'Tài khoản tạm khóa vì đăng nhập sai quá nhiều lần. Vui lòng thử lại sau thời điểm mở khóa ghi trong thông báo.',
    en: 'The account is locked after too many failed sign-ins; retry after lockedUntil.',
  },
  AUTH_REQUIRED: {
    status: 401,
    retryable: false,
    vi: 'Bạn cần đăng nhập để dùng chức năng này.',
    en: 'Sign-in required: send the session cookie or an Authorization: Bearer API key.',
  },
  SESSION_INVALID: {
    status: 401,
    retryable: false,
    vi: 'Phiên đăng nhập không hợp lệ hoặc đã đăng xuất. Vui lòng đăng nhập lại.',
    en: 'The session cookie is unknown or the session was signed out; sign in again.',
  },
  SESSION_EXPIRED: {
    status: 401,
    retryable: false,
    vi: 'Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.',
    en: 'The session has expired; sign in again.',
  },
  API_KEY_INVALID: {
    status: 401,
    retryable: false,
    vi: 'Khóa API không hợp lệ.',
    en: 'The bearer token is not a valid hop API key (expected hop_<prefix>_<secret>).',
  },
  API_KEY_REVOKED: {
    status: 401,
    retryable: false,
    vi: 'Khóa API đã bị thu hồi. Hãy đề nghị quản trị viên cấp khóa mới.',
    en: 'The API key has been revoked; ask an administrator for a new key.',
  },
  API_KEY_NOT_FOUND: {
    status: 404,
    retryable: false,
    vi: 'Không tìm thấy khóa API.',
    en: 'API key not found.',
  },
  CSRF_TOKEN_INVALID: {
    status: 403,
    retryable: false,
    vi: 'Yêu cầu bị từ chối vì thiếu hoặc sai mã chống giả mạo (CSRF). Vui lòng tải lại trang rồi thử lại.',
    en: 'The X-CSRF-Token header is missing or does not match the session; reload the page.',
  },
  ADMIN_REQUIRED: {
    status: 403,
    retryable: false,
    vi: 'Chỉ quản trị viên hệ thống được dùng chức năng này.',
    en: 'Only a signed-in user with system role admin may do this.',
  },
  ACCOUNT_DISABLED: {
    status: 401,
    retryable: false,
    vi: 'Tài khoản của bạn đã bị vô hiệu hóa trong hop. Vui lòng liên hệ quản trị viên.',
    en: 'The account is disabled in hop.',
  },
  PERMISSION_DENIED: {
    status: 403,
    retryable: false,
    vi: 'Bạn không có quyền thực hiện thao tác này.',
    en: 'The signed-in user or API key is not allowed to do this.',
  },
  RATE_LIMITED: {
    status: 429,
    retryable: true,
    vi: 'Bạn gửi quá nhiều yêu cầu trong thời gian ngắn. Vui lòng chờ rồi thử lại.',
    en: 'Too many requests; retry after the number of seconds in the Retry-After header.',
  },
  TOKEN_INVALID: {
    status: 401,
    retryable: false,
    vi: 'Mã đăng nhập từ hệ thống xác thực không hợp lệ. Vui lòng đăng nhập lại.',
    en: 'The identity token is not a well-formed JWT or lacks a required claim; details.reason says which check failed.',
  },
  TOKEN_SIGNATURE_INVALID: {
    status: 401,
    retryable: false,
    vi: 'Chữ ký của mã đăng nhập không đúng. Vui lòng đăng nhập lại.',
    en: 'The identity token signature does not verify with the identity provider key named by its kid.',
  },
  TOKEN_ISSUER_INVALID: {
    status: 401,
    retryable: false,
    vi: 'Mã đăng nhập không do hệ thống xác thực của tỉnh cấp.',
    en: 'The identity token iss claim is not the configured OIDC issuer.',
  },
  TOKEN_AUDIENCE_INVALID: {
    status: 401,
    retryable: false,
    vi: 'Mã đăng nhập không được cấp cho hop. Vui lòng đăng nhập lại từ trang hop.',
    en: 'The identity token aud claim does not contain the configured audience (the hop client id).',
  },
  TOKEN_EXPIRED: {
    status: 401,
    retryable: false,
    vi: 'Mã đăng nhập đã hết hạn. Vui lòng đăng nhập lại.',
    en: 'The identity token has expired (exp is in the past); sign in again.',
  },
  TOKEN_NOT_YET_VALID: {
    status: 401,
    retryable: false,
    vi: 'Mã đăng nhập chưa đến thời điểm có hiệu lực. Hãy kiểm tra đồng hồ của máy chủ rồi đăng nhập lại.',
    en: 'The identity token nbf claim is in the future; check the clocks of hop and the identity provider.',
  },
  TOKEN_KEY_UNKNOWN: {
    status: 401,
    retryable: false,
    vi: 'Mã đăng nhập được ký bằng khóa mà hệ thống xác thực không công bố. Vui lòng đăng nhập lại.',
    en: 'No key in the identity provider JWKS matches the token kid, even after fetching the JWKS again.',
  },
  TOKEN_ALGORITHM_NOT_ALLOWED: {
    status: 401,
    retryable: false,
    vi: 'Mã đăng nhập dùng thuật toán ký không được chấp nhận.',
    en: 'The identity token alg is not in the allowed list; none and HMAC (HS*) algorithms are always rejected.',
  },
  IDENTITY_PROVIDER_UNAVAILABLE: {
    status: 503,
    retryable: true,
    vi: 'Không kết nối được hệ thống xác thực của tỉnh. Vui lòng thử lại sau.',
    en: 'The OIDC discovery document or JWKS could not be fetched (connection failed, timed out or invalid response); retry later.',
  },
  IDENTITY_ROLE_MISSING: {
    status: 403,
    retryable: false,
    vi: 'Tài khoản của bạn chưa được cấp quyền dùng hop. Hãy đề nghị quản trị viên cấp quyền.',
    en: 'The identity token carries no role that the OIDC role map assigns to a hop system role, and no default role is configured.',
  },
  WEBHOOK_URL_INVALID: {
    status: 400,
    retryable: false,
    vi: 'Địa chỉ webhook không hợp lệ. Hãy dùng địa chỉ đầy đủ bắt đầu bằng http:// hoặc https://, không kèm tên đăng nhập, mật khẩu hay phần sau dấu #.',
    en: 'The webhook URL is not an absolute http(s) URL without credentials and fragment; details.reason says what is wrong.',
  },
  WEBHOOK_TARGET_UNRESOLVED: {
    status: 400,
    retryable: true,
    vi: 'Không tìm được địa chỉ IP của máy chủ trong địa chỉ webhook. Hãy kiểm tra lại tên máy chủ.',
    en: 'The host name of the webhook URL did not resolve to any address; details.reason has the resolver error.',
  },
  WEBHOOK_TARGET_FORBIDDEN: {
    status: 400,
    retryable: false,
    vi: 'Không được gửi webhook tới địa chỉ này: hop không bao giờ gọi địa chỉ link-local (169.254.0.0/16, fe80::/10), địa chỉ dịch vụ metadata của máy chủ đám mây hay địa chỉ quảng bá, kể cả khi đã có trong danh sách máy chủ được phép.',
    en: 'The webhook URL resolves to a link-local, cloud metadata, unspecified, broadcast or multicast address, which is refused even when allow-listed; details.reason names the address.',
  },
  WEBHOOK_TARGET_NOT_ALLOWED: {
    status: 400,
    retryable: false,
    vi: 'Máy chủ trong địa chỉ webhook chưa có trong danh sách máy chủ được phép. Quản trị viên cần thêm tên máy chủ hoặc dải địa chỉ IP của nó vào danh sách trước.',
    en: 'An address of the webhook URL is not covered by the webhook allow-list (host or CIDR entry, and port); details.reason names it.',
  },
  WEBHOOK_ENDPOINT_NOT_FOUND: {
    status: 404,
    retryable: false,
    vi: 'Không tìm thấy địa chỉ nhận webhook.',
    en: 'Webhook endpoint not found.',
  },
  WEBHOOK_ALLOWED_TARGET_INVALID: {
    status: 400,
    retryable: false,
    vi: 'Mục trong danh sách máy chủ được phép phải là tên máy chủ, địa chỉ IP hoặc dải địa chỉ dạng CIDR (ví dụ 10.20.0.0/16).',
    en: 'An allow-list target must be a host name, an IP address or a CIDR block such as 10.20.0.0/16.',
  },
  WEBHOOK_ALLOWED_TARGET_EXISTS: {
    status: 409,
    retryable: false,
    vi: 'Máy chủ hoặc dải địa chỉ này đã có trong danh sách máy chủ được phép.',
    en: 'The allow-list already has an entry with this target and port; details.id is its id.',
  },
  WEBHOOK_ALLOWED_TARGET_NOT_FOUND: {
    status: 404,
    retryable: false,
    vi: 'Không tìm thấy mục này trong danh sách máy chủ được phép.',
    en: 'Allow-list entry not found.',
  },
  NOTIFICATION_DELIVERY_NOT_FOUND: {
    status: 404,
    retryable: false,
    vi: 'Không tìm thấy lượt gửi thông báo.',
    en: 'Notification delivery not found.',
  },
  NOTIFICATION_DELIVERY_NOT_DEAD: {
    status: 409,
    retryable: false,
    vi: 'Chỉ gửi lại được thông báo đã gửi thất bại hẳn (nằm trong danh sách gửi lỗi).',
    en: 'Only a dead delivery can be replayed; details.status is its current status.',
  },
  STORAGE_UPLOAD_NOT_FOUND: {
    status: 404,
    retryable: false,
    vi: 'Lượt tải lên này không còn tồn tại (đã hoàn tất, đã hủy hoặc đã hết hạn). Vui lòng tải tệp lên lại.',
    en: 'The multipart upload does not exist: it was completed, aborted or expired.',
  },
  DOCUMENT_NOT_FOUND: {
    status: 404,
    retryable: false,
    vi: 'Không tìm thấy tài liệu họp hoặc phiên bản được yêu cầu.',
    en: 'Document or document version not found in this meeting.',
  },
  UPLOAD_NOT_FOUND: {
    status: 404,
    retryable: false,
    vi: 'Không tìm thấy lượt tải lên này hoặc lượt tải lên đã hết hạn. Vui lòng chọn tệp và tải lên lại.',
    en: 'Upload not found: it was never started, belongs to someone else, or expired.',
  },
  UPLOAD_INCOMPLETE: {
    status: 409,
    retryable: false,
    vi: 'Tệp chưa được tải lên đủ. Vui lòng tiếp tục tải lên rồi xác nhận lại.',
    en: 'Not every part of the upload has arrived; details.missingParts lists the missing part numbers.',
  },
  UPLOAD_SIZE_MISMATCH: {
    status: 409,
    retryable: false,
    vi: 'Kích thước tệp nhận được khác với kích thước đã khai báo. Vui lòng tải tệp lên lại.',
    en: 'The uploaded size differs from the size declared when the upload started; details has both.',
  },
  FILE_EMPTY: {
    status: 400,
    retryable: false,
    vi: 'Tệp rỗng (0 byte). Vui lòng chọn tệp có nội dung.',
    en: 'The file is empty (0 bytes).',
  },
  FILE_TOO_LARGE: {
    status: 413,
    retryable: false,
    vi: 'Tệp vượt quá dung lượng cho phép.',
    en: 'The file is larger than the upload limit; details.maxBytes is the limit.',
  },
  FILE_NAME_INVALID: {
    status: 400,
    retryable: false,
    vi: 'Tên tệp không hợp lệ: tên không được chứa dấu / hoặc \\ hay ký tự điều khiển, và không được quá dài. Hãy đặt tên ngắn hơn rồi tải lên lại.',
    en: 'Invalid file name: no / or \\, no control characters, at most 255 UTF-8 bytes; details.reason says which rule failed.',
  },
  FILE_TYPE_NOT_ALLOWED: {
    status: 415,
    retryable: false,
    vi: 'Loại tệp này không được phép. Chỉ nhận PDF, Word (DOCX, ODT), Excel (XLSX), PowerPoint (PPTX), ảnh (PNG, JPEG, GIF, WebP) và văn bản thuần (TXT).',
    en: 'File type not allowed; accepted: PDF, DOCX, ODT, XLSX, PPTX, PNG, JPEG, GIF, WebP, plain text.',
  },
  AGENDA_ITEM_NOT_FOUND: {
    status: 400,
    retryable: false,
    vi: 'Nội dung họp được chọn không có trong chương trình họp.',
    en: 'agendaIndex does not name an item of the meeting agenda.',
  },
  DOCUMENT_PROCESSING: {
    status: 409,
    retryable: true,
    vi: 'Tài liệu đang được kiểm tra và xử lý. Vui lòng thử lại sau ít phút.',
    en: 'The document version is still being processed; retry shortly.',
  },
  DOCUMENT_REJECTED: {
    status: 409,
    retryable: false,
    vi: 'Phiên bản tài liệu này đã bị từ chối nên không tải xuống được.',
    en: 'The document version was rejected by processing, so it cannot be downloaded; details.code is the reason.',
  },
  DOCUMENT_TYPE_MISMATCH: {
    status: 422,
    retryable: false,
    vi: 'Nội dung tệp không khớp với phần mở rộng của tên tệp (ví dụ tệp chương trình đổi tên thành .pdf). Tệp đã bị từ chối.',
    en: 'The file content is of another type than its name claims; details.detected is the detected type.',
  },
  DOCUMENT_TYPE_NOT_ALLOWED: {
    status: 422,
    retryable: false,
    vi: 'Nội dung tệp thuộc loại không được phép (ví dụ tệp chương trình chạy được). Tệp đã bị từ chối.',
    en: 'The file content is of a type that is not allowed, such as an executable.',
  },
  DOCUMENT_ARCHIVE_UNSAFE: {
    status: 422,
    retryable: false,
    vi: 'Tệp văn phòng có cấu trúc bất thường (giải nén ra quá lớn hoặc quá nhiều thành phần) nên đã bị từ chối để bảo vệ hệ thống.',
    en: 'The office file (a ZIP container) expands beyond the limits on size, ratio or entry count, as a ZIP bomb does.',
  },
  DOCUMENT_DAMAGED: {
    status: 422,
    retryable: false,
    vi: 'Không đọc được tệp: tệp có thể bị hỏng hoặc được bảo vệ bằng mật khẩu.',
    en: 'The file could not be read: it is damaged or password-protected.',
  },
  PARTICIPANT_NOT_FOUND: {
    status: 404,
    retryable: false,
    vi: 'Không tìm thấy người tham dự này trong cuộc họp.',
    en: 'No participant with this id in the meeting.',
  },
  NO_MEETING_IN_ROOM: {
    status: 409,
    retryable: false,
    vi: 'Hiện không có cuộc họp nào diễn ra tại phòng họp này.',
    en: 'No meeting occurrence is running in this meeting room now (from 30 minutes before its start to its end).',
  },
  CHECK_IN_CODE_INVALID: {
    status: 400,
    retryable: false,
    vi: 'Mã điểm danh không hợp lệ. Hãy quét lại mã QR đang hiển thị tại phòng họp.',
    en: 'The check-in code is not valid: it was altered or belongs to another room. Scan the QR code shown in the room again.',
  },
  CHECK_IN_CODE_EXPIRED: {
    status: 400,
    retryable: false,
    vi: 'Mã điểm danh đã hết hạn (mã đổi sau mỗi 30 giây). Hãy quét mã QR đang hiển thị tại phòng họp.',
    en: 'The check-in code has expired (codes change every 30 seconds). Scan the QR code shown in the room now.',
  },
  CHECK_IN_NOT_INVITED: {
    status: 403,
    retryable: false,
    vi: 'Bạn không có trong thành phần tham dự phiên họp này nên không thể điểm danh. Thư ký cuộc họp đã được thông báo; nếu bạn dự họp thay người khác, hãy báo thư ký để ghi nhận ủy quyền.',
    en: 'You are not a participant of this meeting, so you cannot check in. The secretary sees this attempt; if you attend on behalf of someone, ask the secretary to record the delegation.',
  },
  REPORT_PERIOD_INVALID: {
    status: 400,
    retryable: false,
    vi: 'Khoảng thời gian báo cáo không hợp lệ: ngày bắt đầu phải trước ngày kết thúc và không quá 366 ngày.',
    en: 'The report period is invalid: from must be before to, and the period at most 366 days.',
  },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof errorCatalog;

/** An error with a catalogue code; `details` carries field issues or ids, never secrets. */
export class HopError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: unknown;

  constructor(code: ErrorCode, options: { details?: unknown; cause?: unknown; message?: string } = {}) {
    const definition: ErrorDefinition = errorCatalog[code];
    super(options.message ?? definition.en, { cause: options.cause });
    this.name = 'HopError';
    this.code = code;
    this.status = definition.status;
    this.retryable = definition.retryable;
    this.details = options.details;
  }
}

/** The JSON body of every error response of the HTTP API. */
export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    message_en: string;
    details?: unknown;
  };
}

export function errorBody(code: ErrorCode, details?: unknown): ErrorBody {
  const definition: ErrorDefinition = errorCatalog[code];
  const body: ErrorBody = { error: { code, message: definition.vi, message_en: definition.en } };
  if (details !== undefined) body.error.details = details;
  return body;
}

export function isHopError(value: unknown): value is HopError {
  return value instanceof HopError;
}
