// tsyringe checks for the Reflect metadata polyfill when it loads, so the polyfill is imported right
// before it, here, and every part imports tsyringe through this module: with code splitting, any
// chunk may be the first to load.
import "reflect-metadata";

export type { DependencyContainer, InjectionToken } from "tsyringe";
export { container, inject, injectable, instanceCachingFactory } from "tsyringe";
