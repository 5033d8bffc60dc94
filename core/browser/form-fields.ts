/** The string fields of a parsed body: what an HTML form can post (anything else is not from the page). */
export const stringFields = (o: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => typeof e[1] === "string"));
