import { runGateway } from './cli/run-gateway.ts';

// `npm start` / `switchyard start`: the gateway, in demo mode when no config is given.
await runGateway(process.argv.slice(2), { requireConfig: false });
