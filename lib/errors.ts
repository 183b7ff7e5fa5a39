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
  MEDIA_UNAVAILABLE: {
    status: 503,
    retryable: true,
    vi: 'Máy chủ hình ảnh và âm thanh (Janus) đang không kết nối được. Vui lòng thử lại sau.',
    en: 'The Janus media server is not reachable.',
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
