/**
 * Where the evaluation sets are built (one folder per set) and where `evaluate --all-datasets`
 * looks for them; never committed. A module of its own so that the CLI's command definitions
 * can name it without loading the builders.
 */
export const DATASETS_DIR = '.osusume/datasets';
