import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { endSocketWithStatus, guardUpgradeListener } from './listener-guards.ts';
import { parseRequestTarget } from './request-target.ts';

export interface UpgradeGateOptions {
  /** The one path that upgrades (404 elsewhere). */
  readonly path: string;
  /** Refuses with 403 when false (the Origin allow-list). */
  readonly allowUpgrade?: ((req: IncomingMessage) => boolean) | undefined;
  readonly log: Logger;
}

/**
 * The server's 'upgrade' listener: an unparseable target gets 400, another
 * path 404, a refused Origin 403, and nothing it does can throw out of the
 * listener; only then does `accept` (the WebSocket handshake) run.
 */
export function upgradeGate(options: UpgradeGateOptions, accept: (req: IncomingMessage, socket: Duplex, head: Buffer) => void) {
  return guardUpgradeListener(options.log, (req, socket, head) => {
    const url = parseRequestTarget(req.url);
    if (!url) return endSocketWithStatus(socket, 400);
    if (url.pathname !== options.path) return endSocketWithStatus(socket, 404);
    if (options.allowUpgrade && !options.allowUpgrade(req)) return endSocketWithStatus(socket, 403);
    accept(req, socket, head);
  });
}
