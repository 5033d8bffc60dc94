import { randomFillSync } from "node:crypto";

// Random bytes come from one CSPRNG pool refilled 4 KiB at a time: `randomBytes()` costs ~5 µs a call
// here against ~0.4 µs for a slice of the pool, and a code request or a login needs several (ids, IVs,
// tokens). Bytes are copied out and never handed out twice.
const pool = Buffer.allocUnsafe(4096);
let used = pool.length;

/** `size` bytes (at most 4096) from the CSPRNG, as `crypto.randomBytes(size)` gives. */
export function randomBytesPooled(size: number): Buffer {
  if (size > pool.length) throw new RangeError("at most 4096 bytes at a time");
  if (used + size > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const out = Buffer.from(pool.subarray(used, used + size));
  // Bytes handed out are wiped from the pool.
  pool.fill(0, used, used + size);
  used += size;
  return out;
}
