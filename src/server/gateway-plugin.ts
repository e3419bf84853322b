import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * One concern of the front door (yoga's plugin habit at the HTTP layer): the
 * paths it answers. The gateway routes each request to the first plugin that
 * claims its path; what a plugin needs is injected when it is built.
 */
export interface GatewayRoute {
  /** Whether this plugin answers the path. */
  handles(pathname: string): boolean;
  /** Answers the request; never throws out (the listener guard answers 500 if it does). */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> | void;
}
