/** How long a job's retained chunks outlive its last publish (finished or abandoned tails), unless configured. */
export const DEFAULT_LOG_EXPIRE_MS = 10 * 60_000;
