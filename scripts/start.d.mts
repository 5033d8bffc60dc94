/** True when every built entry the command line needs exists and is newer than every source. */
export function isDistFresh(root: string): boolean;
/** Runs the build with its output captured: the output is for showing only when it failed. */
export function buildQuietly(command: string, args: readonly string[], cwd: string): { ok: boolean; output: string };
