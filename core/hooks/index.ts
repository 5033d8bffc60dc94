/**
 * `textlock/hooks`: the types of every trigger's `event` and `api` (Auth0 Actions shapes), for script
 * authors (`// @ts-check` and JSDoc) and for embedders passing trusted functions in `hooks.functions`.
 *
 * @module
 */
import type { HookFunctions } from "./types.js";

export type * from "./types.js";

/**
 * Returns `hooks` unchanged; it only gives each handler its `event` and `api` types when written
 * inline, e.g. `createTextlock({ hooks: { functions: defineHooks({ "post-login": async (event, api) => {…} }) } })`.
 */
export function defineHooks<H extends HookFunctions>(hooks: H): H {
  return hooks;
}
