/**
 * Fills in a table's limits: the given ones where defined, else the defaults.
 * Infinity (no cap) is taken only for the limits named `unbounded`.
 */
export function mergeLimits<L extends { [K in keyof L]: number }>(
  defaults: L,
  given: Partial<L>,
  options: { what: string; allowZero: boolean; unbounded?: readonly (keyof L & string)[] },
): L {
  const limits = { ...defaults };
  for (const name of Object.keys(defaults) as (keyof L & string)[]) {
    const value = given[name];
    if (value === undefined) continue;
    const infinite = value === Infinity && options.unbounded?.includes(name);
    if (
      (!Number.isFinite(value) && !infinite) || value < 0 || (value === 0 && !options.allowZero)
    ) {
      throw new RangeError(
        `Invalid ${options.what}${name} ${value}: expected a ${
          options.allowZero ? "non-negative" : "positive"
        } number`,
      );
    }
    limits[name] = value as L[keyof L & string];
  }
  return limits;
}
