/**
 * The VoIPBIN error envelope: `{"error":{"status","reason","message","request_id"}}`, with the
 * HTTP code derived from `status` (API-NOTES §8).
 */

export type ErrorStatus =
  | 'INVALID_ARGUMENT'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'UNAVAILABLE'
  | 'INTERNAL';

const HTTP_CODE: Record<ErrorStatus, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  FAILED_PRECONDITION: 409,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

export class ApiError extends Error {
  readonly httpStatus: number;

  constructor(
    readonly status: ErrorStatus,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
    this.httpStatus = HTTP_CODE[status];
  }

  envelope(requestId: string): { error: Record<string, string> } {
    return {
      error: { status: this.status, reason: this.reason, message: this.message, request_id: requestId },
    };
  }
}

export const errors = {
  authRequired: () =>
    new ApiError('UNAUTHENTICATED', 'AUTHENTICATION_REQUIRED', 'Authentication is required.'),
  invalidCredentials: () =>
    new ApiError('UNAUTHENTICATED', 'INVALID_CREDENTIALS', 'The provided credentials are invalid.'),
  routeNotFound: () => new ApiError('NOT_FOUND', 'ROUTE_NOT_FOUND', 'The requested route was not found.'),
  invalidJson: () =>
    new ApiError('INVALID_ARGUMENT', 'INVALID_JSON_BODY', 'The request body is not valid JSON.'),
  invalidId: () => new ApiError('INVALID_ARGUMENT', 'INVALID_ID', 'The provided id is not a valid UUID.'),
  invalidArgument: (message: string) => new ApiError('INVALID_ARGUMENT', 'INVALID_ARGUMENT', message),
  invalidParameter: (message: string) =>
    new ApiError('INVALID_ARGUMENT', 'INVALID_REQUEST_PARAMETER', message),
  missingParameter: (message: string) =>
    new ApiError('INVALID_ARGUMENT', 'MISSING_REQUEST_PARAMETER', message),
  notFound: (reason = 'RESOURCE_NOT_FOUND') =>
    new ApiError('NOT_FOUND', reason, 'The requested resource was not found.'),
  internal: () => new ApiError('INTERNAL', 'INTERNAL', 'An internal error occurred.'),
  unavailable: () =>
    new ApiError('UNAVAILABLE', 'SERVICE_UNAVAILABLE', 'The service is temporarily unavailable.'),
  /** A fault injected on purpose (faults.ts), answered as VoIPBIN answers that HTTP status. */
  injected: (httpStatus: InjectedStatus) => {
    const status = INJECTED[httpStatus];
    return new ApiError(status, status === 'INTERNAL' ? 'INTERNAL' : 'INJECTED_FAULT', 'An injected fault.');
  },
};

const INJECTED = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
} as const satisfies Record<number, ErrorStatus>;

/** The HTTP statuses a fault can answer with: those VoIPBIN's error envelope has. */
export type InjectedStatus = keyof typeof INJECTED;
export const INJECTED_STATUSES = Object.keys(INJECTED).map(Number) as InjectedStatus[];
