import { Compute, GoogleAuth } from 'google-auth-library';
import { ConfigError, errorMessage } from './errors.js';

/**
 * Google's Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's
 * application-default login, the metadata server on Google Cloud unless
 * METADATA_SERVER_DETECTION=none), looked for before a cloud backend's first call so that their
 * absence is one line saying what to do. Without it, Firestore's google-gax looks only when its
 * first call opens a channel, and a failure there escapes the call's promise
 * (googleapis/google-cloud-node#9085): the process dies with a stack trace no caller can catch;
 * BigQuery fails later, on a network error that does not name the cause. Off Google Cloud the
 * metadata-server probe fails within its 3 s timeout.
 *
 * Found once, the credentials are not looked for again; a failure is not kept, so that a running
 * API becomes ready once they are there, without a restart.
 */
export class GoogleCredentials {
  private found: Promise<void> | undefined;

  /** `otherwise`: the advice for a local stand-in, appended to the message. */
  constructor(
    private readonly service: string,
    private readonly projectId: string,
    private readonly otherwise = '',
  ) {}

  async require(): Promise<void> {
    this.found ??= this.look().catch((error: unknown) => {
      this.found = undefined;
      throw error;
    });
    await this.found;
  }

  private async look(): Promise<void> {
    const client = await withoutMetadataWarning(() =>
      new GoogleAuth({ projectId: this.projectId }).getClient(),
    ).catch((error: unknown) => {
      const cause = errorMessage(error);
      // google-auth-library's message for "nothing found" only links to generic documentation.
      throw this.missing(
        cause.startsWith('Could not load the default credentials')
          ? 'found none'
          : `could not load them (${cause})`,
        { cause: error },
      );
    });
    // The metadata server's credentials (a Compute client) are taken wherever Google Cloud is
    // detected (a VM's BIOS or MAC address, K_SERVICE) before METADATA_SERVER_DETECTION is read
    // (googleapis/google-cloud-node#9338). Its 'none' says not to use that server: held to here.
    if (client instanceof Compute && metadataServerOff()) throw this.missing('found none');
  }

  private missing(problem: string, options?: ErrorOptions): ConfigError {
    return new ConfigError(
      `${this.service} (project ${this.projectId}) needs Google credentials and ${problem}: run \`gcloud auth application-default login\`, or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file${this.otherwise ? `; ${this.otherwise}` : ''}.`,
      options,
    );
  }
}

/** METADATA_SERVER_DETECTION=none, read as gcp-metadata reads it. */
function metadataServerOff(): boolean {
  return process.env.METADATA_SERVER_DETECTION?.trim().toLowerCase() === 'none';
}

let muting = 0;
let emitWarning = process.emitWarning;

/**
 * `task` without gcp-metadata's MetadataLookupWarning. Where there is no metadata server (any
 * machine off Google Cloud), its probe fails as expected, yet the failure (Promise.any's
 * AggregateError, or an abort on timeout) is not one it recognises, so it warns "received
 * unexpected error = All promises were rejected": two lines of noise around the one that says
 * what to do. The filter holds process-wide while `task` runs, and drops no other warning.
 */
async function withoutMetadataWarning<T>(task: () => Promise<T>): Promise<T> {
  // Counted: the store and the warehouse may look at once, and the last to finish restores.
  if (muting++ === 0) {
    emitWarning = process.emitWarning;
    process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
      if (rest[0] !== 'MetadataLookupWarning')
        Reflect.apply(emitWarning, process, [warning, ...rest]);
    }) as typeof process.emitWarning;
  }
  try {
    return await task();
  } finally {
    if (--muting === 0) process.emitWarning = emitWarning;
  }
}
