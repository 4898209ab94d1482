/** The Pulumi program (`pulumi up`, see README "Deploy to Google Cloud"): stack outputs are its exports. */
import { readStackConfig } from './config.js';
import { createStack } from './stack.js';

const { config, secrets } = readStackConfig();
const outputs = createStack(config, secrets);

export const apiUrl = outputs.apiUrl;
export const workerPool = outputs.workerPool;
export const imageRepository = outputs.imageRepository;
export const datasetId = outputs.datasetId;
export const rawLogsDatasetId = outputs.rawLogsDatasetId;
export const firestoreDatabase = outputs.firestoreDatabase;
export const buckets = outputs.buckets;
export const temporal = outputs.temporal;
