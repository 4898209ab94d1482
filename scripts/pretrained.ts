import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What scripts/setup/pypi.sh installs from PyPI, where PyPI answers: a pretrained sentence
 * encoder laid out as a model folder, and the schemathesis API fuzzer. Both live in a cache
 * outside the clone and are linked into .osusume/.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** all-MiniLM-L6-v2 (English, 6 x 384) with int8 weights, in ONNX. */
export const PRETRAINED_MODEL_DIR = path.join(root, '.osusume/models/all-MiniLM-L6-v2-int8');
export const SCHEMATHESIS = path.join(root, '.osusume/schemathesis');

/** The pretrained model folder when set-up could fetch it. */
export function pretrainedModelDir(): string | undefined {
  return existsSync(path.join(PRETRAINED_MODEL_DIR, 'SHA256')) ? PRETRAINED_MODEL_DIR : undefined;
}

/** The schemathesis executable when set-up could install it. */
export function schemathesisPath(): string | undefined {
  return existsSync(SCHEMATHESIS) ? SCHEMATHESIS : undefined;
}
