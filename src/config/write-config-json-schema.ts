import { writeFileSync } from 'node:fs';
import { adapterFactories } from '../adapters.ts';
import { configJsonSchema } from './config-json-schema.ts';

// Run by `npm run codegen`; `.ci/run` fails when the committed file differs.
writeFileSync(new URL('../__generated__/config.schema.json', import.meta.url), `${JSON.stringify(configJsonSchema(adapterFactories), null, 2)}\n`);
