/**
 * vitest globalSetup: before any test file runs, make sure what the suite needs
 * outside node_modules is there (see prerequisites.ts). When something is missing
 * and cannot be installed or started here, stop the whole run at once with one
 * line saying what to run, instead of failing or skipping test by test.
 */
import { ensurePrerequisites, MissingPrerequisite, optionsFromEnvironment } from './prerequisites.ts';

export default async function setup(): Promise<void> {
  try {
    await ensurePrerequisites(optionsFromEnvironment());
  } catch (error) {
    if (!(error instanceof MissingPrerequisite)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
