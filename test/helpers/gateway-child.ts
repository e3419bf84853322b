/**
 * A gateway in its own process, for tests that need several instances (shared
 * Redis state). Config comes as JSON in SWITCHYARD_TEST_CONFIG; prints
 * {"port": N} when listening; exits on SIGTERM or when stdin closes.
 */
import { destination, pino } from 'pino';
import { adapterFactories } from '../../src/adapters.ts';
import { validateConfig } from '../../src/config/load-config.ts';
import { createGateway } from '../../src/server/create-gateway.ts';

const config = validateConfig(JSON.parse(process.env.SWITCHYARD_TEST_CONFIG ?? '{}'), adapterFactories, 'SWITCHYARD_TEST_CONFIG');
// SWITCHYARD_TEST_LOGS=stderr: log at the config's level to stderr (fd 2, synchronous), for tests that read logs.
const log = process.env.SWITCHYARD_TEST_LOGS === 'stderr' ? pino({ level: config.logLevel }, destination({ fd: 2, sync: true })) : pino({ level: 'silent' });
// SWITCHYARD_TEST_POLLING=1: poll the backends (off by default: most tests drive state by webhooks alone).
const gateway = createGateway({ config, factories: adapterFactories, log, polling: process.env.SWITCHYARD_TEST_POLLING === '1' });
const { port } = await gateway.listen(0, '127.0.0.1');
process.stdout.write(`${JSON.stringify({ port })}\n`);
const stop = () => void gateway.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
