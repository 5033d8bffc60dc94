// The bench's phone numbers: valid US numbers (ten real area codes, exchanges 200–999), as people type
// them. textlock types each number it has not seen with libphonenumber-js (its phone policy), and a
// number no country claims costs that about twice as much (~40 µs here) as a valid one, trying every
// country that shares +1.
const AREA_CODES = ["415", "212", "312", "646", "213", "617", "206", "305", "404", "512"];

/** The `i`-th number of a sequence starting at `offset` (distinct for 80 million steps). */
export function benchPhone(offset: number, i: number): string {
  const n = offset + i;
  return `+1${AREA_CODES[n % 10]}${String(2_000_000 + (Math.floor(n / 10) % 8_000_000))}`;
}
