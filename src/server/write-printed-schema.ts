import { writeFileSync } from 'node:fs';
import { PRINTED_SCHEMA_FILE, printServedSchema } from './printed-schema.ts';

// Run by `npm run codegen`; `npm run codegen:check` and `.ci/run` fail when the committed file differs.
writeFileSync(PRINTED_SCHEMA_FILE, printServedSchema());
