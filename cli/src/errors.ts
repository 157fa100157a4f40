/** What went wrong, and the exit code that says so (documented in `ipa --help`). */
export const EXIT = { ok: 0, failed: 1, usage: 2, executionFailed: 3, notSignedIn: 4 } as const;

export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT.failed) {
    super(message);
    this.exitCode = exitCode;
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

export interface ErrorDetail {
  path: string;
  message: string;
}

/** An answer of the API in its one error shape. */
export class ApiError extends CliError {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[];

  constructor(status: number, code: string, message: string, details: ErrorDetail[] = []) {
    super(
      [`${status} ${code}: ${message}`, ...details.map((d) => `  ${d.path}: ${d.message}`)].join("\n"),
      status === 401 ? EXIT.notSignedIn : EXIT.failed,
    );
    this.status = status;
    this.code = code;
    this.details = details;
  }
}
