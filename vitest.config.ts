import { defineConfig } from "vitest/config";

// Two cores: at most two test files at once. Integration and e2e suites start their own servers on
// loopback ports chosen by the OS, so files never collide.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    globalSetup: ["test/global-setup.ts"],
    pool: "forks",
    // isolated-vm (hook sandbox) needs this flag on Node >= 20.
    execArgv: ["--no-node-snapshot"],
    maxWorkers: 2,
    testTimeout: 30_000,
    // expect.poll waits for what a browser or a child process does; 1 s (the default) is short on a
    // loaded 2-core CI machine.
    expect: { poll: { timeout: 10_000 } },
    hookTimeout: 60_000,
    reporters: ["default", ["json", { outputFile: ".vitest-results.json" }]],
  },
});
