/** Fills in a table's limits: the given ones where defined, else the defaults. */
export function mergeLimits<L extends { [K in keyof L]: number }>(
  defaults: L,
  given: Partial<L>,
  options: { what: string; allowZero: boolean },
): L {
  const limits = { ...defaults };
  for (const name of Object.keys(defaults) as (keyof L & string)[]) {
    const value = given[name];
    if (value === undefined) continue;
    if (!Number.isFinite(value) || value < 0 || (value === 0 && !options.allowZero)) {
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
