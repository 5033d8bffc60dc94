// Work the targets' requests cannot skip, whoever serves them, in its own process:
// `tsx bench/floors.ts [seconds]` prints one JSON line, ms per operation:
// - phoneMs: typing a number not seen before with libphonenumber-js's full metadata (parse and line
//   type; getType() is undefined for a number that is not valid, so no separate isValid()): the
//   default phone policy refuses premium-rate, toll-free, VoIP… numbers, so a start must know its
//   number's line type;
// - hmacMs: the HMAC-SHA-256 a code is stored and compared as (a start computes one, an exchange one).
// Measured in a tight loop, with warm caches, so these are lower than the same work inside a server.
import { createHmac, randomBytes } from "node:crypto";
import parsePhoneNumber from "libphonenumber-js/max";
import { benchPhone } from "./phones.js";

const seconds = Number(process.argv[2] ?? 1);

/** Mean ms per call of `op(i)` over `seconds` (after a warm-up), with a fresh `i` each call. */
function perCall(op: (i: number) => unknown): number {
  let i = 0;
  for (const end = performance.now() + 100; performance.now() < end; ) op(i++);
  const began = performance.now();
  const end = began + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    for (let k = 0; k < 100; k++) op(i++);
    n += 100;
  }
  return (performance.now() - began) / n;
}

const offset = Math.floor(Math.random() * 1e6);
let sink = 0;
const phoneMs = perCall((i) => {
  const parsed = parsePhoneNumber(benchPhone(offset, i));
  if (parsed?.getType()) sink++;
});
const secret = randomBytes(32);
const hmacMs = perCall((i) => {
  sink += createHmac("sha256", secret)
    .update(`sms\0textlock-dev\0+14155550100\0${100000 + (i % 900000)}`)
    .digest()[0]!;
});
console.log(JSON.stringify({ phoneMs, hmacMs, sink: sink > 0 }));
