import { brand, hasBrand } from "./brand.js";
import { type ErrorCode, errorSpec } from "./catalog.js";

export interface TextlockErrorOptions {
  /** Replaces the catalog description on the wire, for codes whose spec has `detail: true`. */
  description?: string;
  /** Extra response headers (for example `Retry-After` on 429). */
  headers?: Record<string, string>;
  /** The underlying error; kept for logs, never sent to the caller. */
  cause?: unknown;
}

/**
 * An error with a stable `ERR_*` code from the catalog. Anything thrown inside a request that is not a
 * TextlockError is turned into `ERR_INTERNAL` by the error writer, so only these reach the wire.
 *
 * Only server-side errors (5xx) carry a stack trace: a 4xx is an answer (a wrong code, a bad parameter),
 * thrown on hot paths thousands of times a second, where capturing the stack was a measurable share of
 * the work; its `cause`, if any, keeps its own.
 */
export class TextlockError extends Error {
  readonly code: ErrorCode;
  readonly description: string | undefined;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, options: TextlockErrorOptions = {}) {
    const spec = errorSpec(code);
    const stackTraceLimit = Error.stackTraceLimit;
    if (spec.status < 500) Error.stackTraceLimit = 0;
    super(options.description ?? spec.description, { cause: options.cause });
    Error.stackTraceLimit = stackTraceLimit;
    this.name = "TextlockError";
    this.code = code;
    this.description = options.description;
    this.headers = options.headers ?? {};
    brand(this, "TextlockError");
  }

  /** The HTTP status of this error's code. */
  get status(): number {
    return errorSpec(this.code).status;
  }
}

/** Thrown by `createTextlock()` when the configuration is invalid; lists every problem at once. */
export class TextlockConfigError extends Error {
  readonly code = "ERR_CONFIG" as const;
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(
      `Invalid textlock configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "TextlockConfigError";
    this.problems = problems;
    brand(this, "TextlockConfigError");
  }
}

/** True for a {@link TextlockError} from any copy of textlock (ESM or CommonJS build, another install). */
export function isTextlockError(value: unknown): value is TextlockError {
  return hasBrand(value, "TextlockError");
}

/** True for a {@link TextlockConfigError} from any copy of textlock. */
export function isTextlockConfigError(value: unknown): value is TextlockConfigError {
  return hasBrand(value, "TextlockConfigError");
}
