/** Why a hook run (script or function) failed; the message is for the operator log, never for the caller. */
export class HookScriptError extends Error {
  constructor(
    readonly reason: "threw" | "timeout" | "memory" | "missing_handler" | "bad_output",
    message: string,
  ) {
    super(message);
    this.name = "HookScriptError";
  }
}
