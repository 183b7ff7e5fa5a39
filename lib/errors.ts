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
