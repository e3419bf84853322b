/** Any thrown value as an Error, for a DataLoader slot. */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Runs `load` once per distinct key and fans the results back out in key
 * order, with a failure for one key as an Error in its slot (the DataLoader
 * batch-function contract).
 */
export async function perDistinctKey<T>(keys: readonly string[], load: (key: string) => Promise<T>): Promise<Array<T | Error>> {
  const distinct = new Map<string, Promise<T | Error>>();
  for (const k of keys) if (!distinct.has(k)) distinct.set(k, load(k).catch(asError));
  return Promise.all(keys.map((k) => distinct.get(k)!));
}
