import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * The server secret as bytes: the configured one, or one generated once into `<dataDir>/secret`
 * (mode 0600) and reused on every start, so codes issued before a restart stay verifiable.
 */
export async function resolveSecret(
  configured: string | undefined,
  dataDir: string,
): Promise<{ secret: Buffer; generated: boolean }> {
  if (configured) return { secret: Buffer.from(configured, "utf8"), generated: false };
  const file = join(dataDir, "secret");
  try {
    const existing = (await readFile(file, "utf8")).trim();
    if (existing.length >= 64) return { secret: Buffer.from(existing, "hex"), generated: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  await mkdir(dataDir, { recursive: true });
  const value = randomBytes(32).toString("hex");
  try {
    await writeFile(file, `${value}\n`, { mode: 0o600, flag: "wx" });
    return { secret: Buffer.from(value, "hex"), generated: true };
  } catch (err) {
    // Another process sharing the data folder wrote it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return resolveSecret(undefined, dataDir);
    throw err;
  }
}
