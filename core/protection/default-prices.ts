/**
 * An EXAMPLE price table for `protection.budgets`: US dollars per SMS segment for a few common
 * countries, rounded from public list prices seen in 2025. It is not vendor truth and will drift: prices
 * differ by vendor, contract, sender type and month. Put your own vendor's prices in
 * `protection.budgets.prices` (and `defaultPrice`); these are only the fallback for countries you do not
 * list, so a budget works out of the box.
 */
export const DEFAULT_PRICES: {
  readonly currency: "USD";
  readonly default: number;
  readonly countries: Readonly<Record<string, number>>;
} = {
  currency: "USD",
  /** Any country not in the table: deliberately high, so an unknown destination spends budget fast. */
  default: 0.1,
  countries: {
    US: 0.0083,
    CA: 0.0083,
    GB: 0.04,
    FR: 0.08,
    DE: 0.09,
    ES: 0.07,
    IT: 0.08,
    NL: 0.1,
    IN: 0.08,
    BR: 0.06,
    MX: 0.05,
    AU: 0.05,
  },
};
