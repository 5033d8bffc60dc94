import { createHash, randomBytes } from "node:crypto";

/** SHA-256 in base64url: how tickets, codes, verifiers and the binding cookie are kept (never in clear). */
export const sha256 = (value: string): string => createHash("sha256").update(value).digest("base64url");

/** A random base64url string of `bytes` bytes of entropy. */
export const randomToken = (bytes: number): string => randomBytes(bytes).toString("base64url");
