import type { Route } from "../http/handler.js";
import { logRoutes } from "./logs-routes.js";
import { userRoutes } from "./users-routes.js";

/**
 * The Management API (`/api/v2/*`), registered by the HTTP handler after the Authentication API.
 * Every route is made with `managementRoute` (core/management/route.ts): token and scope check,
 * `{statusCode, error, message, errorCode}` errors, a `management.called` event.
 */
export const managementRoutes: Route[] = [...userRoutes, ...logRoutes];
