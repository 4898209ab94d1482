import {
  multilingualModelDir,
  pretrainedModelDir,
  schemathesisPath,
} from '../../scripts/pretrained.js';

/**
 * What set-up fetched from PyPI (scripts/setup/pypi.sh). Without it (a laptop offline) the
 * tests that need it say that they skipped; with CI=true they fail, since CI reaches PyPI.
 */
function required(what: string, found: string | undefined): string | undefined {
  if (found) return found;
  const message = `${what} is not installed: run 'npm run setup' where PyPI answers.`;
  if (process.env.CI) throw new Error(`CI needs it: ${message}`);
  console.warn(`SKIPPED: ${message}`);
  return undefined;
}

export const pretrainedModel = () =>
  required('The pretrained encoder (.osusume/models/all-MiniLM-L6-v2-int8)', pretrainedModelDir());

export const multilingualModel = () =>
  required(
    'The multilingual encoder (.osusume/models/multilingual-e5-small-q4)',
    multilingualModelDir(),
  );

export const schemathesis = () =>
  required('schemathesis (.osusume/schemathesis)', schemathesisPath());
