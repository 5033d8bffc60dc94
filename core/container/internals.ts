import type { DependencyContainer } from "./di.js";

/**
 * The instance's container is not part of the public `Textlock`: users get facades. textlock's own
 * HTTP layer reaches the parts it serves through this key (`Symbol.for`, so every copy of the package
 * in a process finds it).
 */
const CONTAINER = Symbol.for("textlock.container");

export function attachContainer<T extends object>(facade: T, container: DependencyContainer): T {
  Object.defineProperty(facade, CONTAINER, { value: container, enumerable: true });
  return facade;
}

/** The container of an instance made by `createTextlock()`. */
export function containerOf(textlock: object): DependencyContainer {
  const container = (textlock as Record<symbol, DependencyContainer | undefined>)[CONTAINER];
  if (!container) throw new TypeError("not a textlock instance (made by createTextlock())");
  return container;
}
