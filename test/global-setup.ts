import type { TestProject } from "vitest/node";
import { postgresBinDir, type RunningService, redisBinary, startPostgres, startRedis } from "./helpers/services.js";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string | undefined;
    postgresUrl: string | undefined;
  }
}

/**
 * Starts one real Redis and one real PostgreSQL on loopback for the integration suites. Where a server
 * is not installed the suites that need it are skipped, except under CI (CI=true), where that is an
 * error: CI installs both (.ci/run), so a missing one means the run would test less than it claims.
 */
export default async function setup(project: TestProject) {
  const running: RunningService[] = [];
  const need = (name: string, present: boolean) => {
    if (!present && process.env.CI) throw new Error(`${name} is required under CI but is not installed`);
    return present;
  };
  const redis = need("redis-server", !!redisBinary()) ? await startRedis() : undefined;
  if (redis) running.push(redis);
  const postgres = need("postgresql", !!postgresBinDir()) ? await startPostgres() : undefined;
  if (postgres) running.push(postgres);
  project.provide("redisUrl", redis?.url);
  project.provide("postgresUrl", postgres?.url);
  return async () => {
    await Promise.all(running.map((s) => s.stop()));
  };
}
