/** The shared chunk bus could not do its part (its Redis is unreachable); the message says what and where. */
export class LogBusUnavailableError extends Error {
  override readonly name = 'LogBusUnavailableError';
}
