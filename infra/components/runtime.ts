import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type { Secrets } from './secrets.js';

/** What every osusume runtime (API service, worker pool) is given. */
export interface RuntimeArgs {
  project: string;
  region: string;
  image: string;
  /** The osusume configuration document (app-config.ts). */
  appConfig: Record<string, unknown>;
  firestoreDatabase: string;
  secrets: Secrets;
  labels: Record<string, string>;
}

/** A bucket or a secret that a Cloud Run container sees as files under `path`. */
export type Mount =
  | { name: string; path: string; bucket: pulumi.Input<string>; readOnly: boolean }
  | { name: string; path: string; secret: pulumi.Input<string>; file: string };

/** Volumes and mounts, in the shape both Cloud Run services and worker pools take. */
export function volumesFor(mounts: Mount[]) {
  return {
    volumes: mounts.map((m) =>
      'bucket' in m
        ? { name: m.name, gcs: { bucket: m.bucket, readOnly: m.readOnly } }
        : {
            name: m.name,
            secret: { secret: m.secret, items: [{ version: 'latest', path: m.file }] },
          },
    ),
    volumeMounts: mounts.map((m) => ({ name: m.name, mountPath: m.path })),
  };
}

/** A runtime's own service account: no keys are ever created for it. */
export function runtimeAccount(
  name: string,
  accountId: string,
  displayName: string,
  parent: pulumi.Resource,
): gcp.serviceaccount.Account {
  return new gcp.serviceaccount.Account(name, { accountId, displayName }, { parent });
}
